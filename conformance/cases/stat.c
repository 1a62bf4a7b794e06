/* stat family: stat/lstat/fstat/newfstatat/statx, statfs, access, chmod, chown, utimes. */
#include "common.h"
#include <sys/statfs.h>
#include <sys/time.h>
#include <utime.h>

// normalise[test_statfs_basic]: f_type=0x[0-9a-f]+ => f_type=FS
// normalise[test_fstatfs_basic]: f_type=0x[0-9a-f]+ => f_type=FS

static void show_times(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == -1) {
        out("  %s: %s\n", path, errname(errno));
        return;
    }
    out("  %s: atime=%ld.%09ld mtime=%ld.%09ld\n", path, (long)st.st_atim.tv_sec,
        st.st_atim.tv_nsec, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static void show_owner(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == -1)
        out("  %s: %s\n", path, errname(errno));
    else
        out("  %s: uid=%u gid=%u mode=%04o\n", path, st.st_uid, st.st_gid, st.st_mode & 07777);
}

CASE(stat_regular, "stat")
{
    put("f", "12345");
    struct stat st;
    R(SC(SYS_stat, "f", &st));
    show_stat_buf("f", &st);
    out("  blksize>0=%d\n", st.st_blksize > 0);
}

CASE(stat_errors, "stat")
{
    struct stat st;
    put("f", "");
    R(SC(SYS_stat, "missing", &st));
    R(SC(SYS_stat, "f/x", &st));
    R(SC(SYS_stat, "", &st));
    R(SC(SYS_stat, "f", NULL));
}

CASE(stat_follows_symlink, "stat lstat")
{
    put("f", "abc");
    symlink("f", "l");
    symlink("missing", "dangling");
    struct stat st;
    R(SC(SYS_stat, "l", &st));
    show_stat_buf("stat(l)", &st);
    R(SC(SYS_lstat, "l", &st));
    show_stat_buf("lstat(l)", &st);
    R(SC(SYS_stat, "dangling", &st));
    R(SC(SYS_lstat, "dangling", &st));
}

CASE(stat_directory_nlink, "stat")
{
    mkdir("d", 0711);
    mkdir("d/a", 0755);
    struct stat st;
    R(SC(SYS_stat, "d", &st));
    show_stat_buf("d", &st);
    R(SC(SYS_stat, "d/.", &st));
    R(SC(SYS_stat, "d/a/..", &st));
    show_stat_buf("d/a/..", &st);
}

CASE(lstat_trailing_slash, "lstat")
{
    mkdir("d", 0755);
    symlink("d", "l");
    struct stat st;
    R(SC(SYS_lstat, "l", &st));
    show_stat_buf("l", &st);
    R(SC(SYS_lstat, "l/", &st));
    show_stat_buf("l/", &st);
}

CASE(fstat_kinds, "fstat pipe2")
{
    struct stat st;
    int p[2];
    MUST(pipe(p));
    R(SC(SYS_fstat, p[0], &st));
    out("  pipe type=%s\n", ftype(st.st_mode));
    int fd = MUST(open(".", O_RDONLY));
    R(SC(SYS_fstat, fd, &st));
    out("  dir type=%s\n", ftype(st.st_mode));
    R(SC(SYS_fstat, -1, &st));
    close(fd);
}

CASE(fstat_after_write, "fstat write")
{
    int fd = MUST(open("f", O_CREAT | O_RDWR, 0600));
    struct stat st;
    write(fd, "hello", 5);
    R(SC(SYS_fstat, fd, &st));
    show_stat_buf("f", &st);
    close(fd);
}

CASE(newfstatat_flags, "newfstatat")
{
    put("f", "x");
    symlink("f", "l");
    int dfd = MUST(open(".", O_RDONLY | O_DIRECTORY));
    struct stat st;
    R(fstatat(dfd, "l", &st, 0));
    show_stat_buf("follow", &st);
    R(fstatat(dfd, "l", &st, AT_SYMLINK_NOFOLLOW));
    show_stat_buf("nofollow", &st);
    int ffd = MUST(open("f", O_RDONLY));
    R(fstatat(ffd, "", &st, AT_EMPTY_PATH));
    show_stat_buf("empty_path", &st);
    R(fstatat(ffd, "", &st, 0));
    R(fstatat(dfd, "f", &st, 0x4000000));
    close(ffd);
    close(dfd);
}

CASE(statx_basic, "statx")
{
    put("f", "123");
    struct statx sx;
    R(statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS, &sx));
    out("  mask_basic=%d type=%s mode=%04o size=%llu nlink=%u\n",
        (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS, ftype(sx.stx_mode),
        sx.stx_mode & 07777, (unsigned long long)sx.stx_size, sx.stx_nlink);
    R(statx(AT_FDCWD, "missing", 0, STATX_BASIC_STATS, &sx));
    R(statx(AT_FDCWD, "f", 0, 0x80000000U, &sx));
}

CASE(statx_nofollow_emptypath, "statx")
{
    put("f", "x");
    symlink("f", "l");
    struct statx sx;
    R(statx(AT_FDCWD, "l", AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx));
    out("  type=%s\n", ftype(sx.stx_mode));
    int fd = MUST(open("f", O_RDONLY));
    R(statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx));
    out("  size=%llu\n", (unsigned long long)sx.stx_size);
    close(fd);
}

CASE(statfs_basic, "statfs")
{
    struct statfs sf;
    R(statfs(".", &sf));
    out("  f_type=%#lx bsize>0=%d namelen=%ld\n", (long)sf.f_type, sf.f_bsize > 0, (long)sf.f_namelen);
    R(statfs("missing", &sf));
}

CASE(fstatfs_basic, "fstatfs")
{
    struct statfs sf;
    int fd = MUST(open(".", O_RDONLY));
    R(fstatfs(fd, &sf));
    out("  f_type=%#lx namelen=%ld\n", (long)sf.f_type, (long)sf.f_namelen);
    R(fstatfs(-1, &sf));
    close(fd);
}

CASE(access_modes, "access")
{
    put("f", "");
    chmod("f", 0644);
    put("x", "");
    chmod("x", 0755);
    R(SC(SYS_access, "f", F_OK));
    R(SC(SYS_access, "f", R_OK | W_OK));
    R(SC(SYS_access, "x", X_OK));
    R(SC(SYS_access, "missing", F_OK));
    R(SC(SYS_access, "f", 0x10));
}

CASE(access_root_exec_bit, "access")
{
    /* root may read/write anything, but X_OK needs at least one x bit. */
    put("noexec", "");
    chmod("noexec", 0000);
    R(SC(SYS_access, "noexec", R_OK | W_OK));
    R(SC(SYS_access, "noexec", X_OK));
    mkdir("d", 0000);
    R(SC(SYS_access, "d", X_OK));
}

CASE(faccessat_dirfd, "faccessat")
{
    mkdir("d", 0755);
    put("d/f", "");
    int dfd = MUST(open("d", O_RDONLY | O_DIRECTORY));
    R(SC(SYS_faccessat, dfd, "f", R_OK));
    R(SC(SYS_faccessat, dfd, "g", R_OK));
    close(dfd);
}

CASE(faccessat2_flags, "faccessat2")
{
    symlink("missing", "dangling");
    R(SC(SYS_faccessat2, AT_FDCWD, "dangling", F_OK, 0));
    R(SC(SYS_faccessat2, AT_FDCWD, "dangling", F_OK, AT_SYMLINK_NOFOLLOW));
    R(SC(SYS_faccessat2, AT_FDCWD, "dangling", F_OK, AT_EACCESS));
    R(SC(SYS_faccessat2, AT_FDCWD, ".", F_OK, 0x1));
}

CASE(chmod_basic, "chmod")
{
    put("f", "");
    R(SC(SYS_chmod, "f", 0600));
    show_lstat("f");
    R(SC(SYS_chmod, "f", 04755));
    show_lstat("f");
    R(SC(SYS_chmod, "missing", 0600));
}

CASE(chmod_through_symlink, "chmod")
{
    put("f", "");
    symlink("f", "l");
    R(SC(SYS_chmod, "l", 0604));
    show_lstat("f");
    show_lstat("l");
}

CASE(fchmod_basic, "fchmod")
{
    int fd = MUST(open("f", O_CREAT | O_RDWR, 0644));
    R(fchmod(fd, 0400));
    show_lstat("f");
    R(fchmod(-1, 0400));
    close(fd);
}

CASE(fchmodat_nofollow, "fchmodat fchmodat2")
{
    put("f", "");
    symlink("f", "l");
    R(SC(SYS_fchmodat, AT_FDCWD, "l", 0640));
    show_lstat("f");
    long r = SC(SYS_fchmodat2, AT_FDCWD, "l", 0600, AT_SYMLINK_NOFOLLOW);
    out("fchmodat2(l, NOFOLLOW) = %s\n", r == 0 ? "0" : errname(errno));
    R(SC(SYS_fchmodat2, AT_FDCWD, "f", 0600, 0x8000));
}

CASE(chown_basic, "chown")
{
    put("f", "");
    R(SC(SYS_chown, "f", 1000, 1000));
    show_owner("f");
    R(SC(SYS_chown, "f", -1, 2000));
    show_owner("f");
}

CASE(chown_clears_setuid, "chown")
{
    put("f", "");
    chmod("f", 06755);
    show_owner("f");
    R(SC(SYS_chown, "f", 1, 1));
    show_owner("f");
}

CASE(lchown_symlink, "lchown")
{
    put("f", "");
    symlink("f", "l");
    R(SC(SYS_lchown, "l", 123, 456));
    struct stat st;
    lstat("l", &st);
    out("  link uid=%u gid=%u\n", st.st_uid, st.st_gid);
    show_owner("f");
}

CASE(fchown_fd, "fchown")
{
    int fd = MUST(open("f", O_CREAT | O_RDWR, 0644));
    R(fchown(fd, 7, 8));
    show_owner("f");
    close(fd);
}

CASE(fchownat_empty_path, "fchownat")
{
    int fd = MUST(open("f", O_CREAT | O_RDWR, 0644));
    R(fchownat(fd, "", 11, 12, AT_EMPTY_PATH));
    show_owner("f");
    R(fchownat(fd, "", 11, 12, 0));
    close(fd);
}

CASE(utime_explicit, "utime")
{
    put("f", "");
    struct utimbuf ub = {.actime = 1000000000, .modtime = 1200000000};
    R(SC(SYS_utime, "f", &ub));
    show_times("f");
}

CASE(utimes_explicit, "utimes")
{
    put("f", "");
    struct timeval tv[2] = {{1500000000, 250000}, {1600000000, 500000}};
    R(SC(SYS_utimes, "f", tv));
    show_times("f");
    R(SC(SYS_utimes, "missing", tv));
}

CASE(utimensat_omit_and_nofollow, "utimensat")
{
    put("f", "");
    symlink("f", "l");
    struct timespec ts[2] = {{1000, 1}, {2000, 2}};
    R(utimensat(AT_FDCWD, "f", ts, 0));
    show_times("f");
    struct timespec ts2[2] = {{5, UTIME_OMIT}, {3000, 3}};
    R(utimensat(AT_FDCWD, "f", ts2, 0));
    show_times("f");
    struct timespec ts3[2] = {{4000, 0}, {4000, 0}};
    R(utimensat(AT_FDCWD, "l", ts3, AT_SYMLINK_NOFOLLOW));
    show_times("l");
    show_times("f");
    struct timespec bad[2] = {{0, 2000000000}, {0, 0}};
    R(utimensat(AT_FDCWD, "f", bad, 0));
}

CASE(utimensat_null_path_is_futimens, "utimensat")
{
    put("f", "");
    int fd = MUST(open("f", O_RDONLY));
    struct timespec ts[2] = {{1700000000, 5}, {1700000001, 6}};
    R(SC(SYS_utimensat, fd, NULL, ts, 0));
    show_times("f");
    R(SC(SYS_utimensat, fd, NULL, ts, AT_SYMLINK_NOFOLLOW));   /* EINVAL: no flags */
    R(SC(SYS_utimensat, AT_FDCWD, NULL, ts, 0));               /* EFAULT */
    close(fd);
    R(SC(SYS_utimensat, fd, NULL, ts, 0));                     /* EBADF */
    int opath = MUST(open("f", O_PATH));
    R(SC(SYS_utimensat, opath, NULL, ts, 0));                  /* EBADF on O_PATH */
    close(opath);
}

CASE(futimesat_dirfd, "futimesat")
{
    mkdir("d", 0755);
    put("d/f", "");
    int dfd = MUST(open("d", O_RDONLY | O_DIRECTORY));
    struct timeval tv[2] = {{111, 0}, {222, 0}};
    R(SC(SYS_futimesat, dfd, "f", tv));
    show_times("d/f");
    close(dfd);
}
