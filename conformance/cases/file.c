/* file family: open/creat/close, truncate, rename, link, symlink, unlink, mknod. */
#include "common.h"
#include <linux/openat2.h>

CASE(open_create_rdwr, "open close")
{
    int fd = R(SC(SYS_open, "f", O_CREAT | O_RDWR, 0640));
    R(write(fd, "abc", 3));
    R(close(fd));
    show_lstat("f");
    show_file("f");
}

CASE(open_enoent, "open")
{
    R(SC(SYS_open, "missing", O_RDONLY));
    R(SC(SYS_open, "missing/x", O_RDONLY));
    R(SC(SYS_open, "", O_RDONLY));
}

CASE(open_excl_exists, "open")
{
    put("f", "x");
    R(SC(SYS_open, "f", O_CREAT | O_EXCL | O_WRONLY, 0644));
    int fd = R(SC(SYS_open, "g", O_CREAT | O_EXCL | O_WRONLY, 0644));
    close(fd);
    show_lstat("g");
}

CASE(open_trunc, "open")
{
    put("f", "hello world");
    int fd = R(SC(SYS_open, "f", O_WRONLY | O_TRUNC));
    close(fd);
    show_lstat("f");
}

CASE(open_append, "open write")
{
    put("f", "one;");
    int fd = R(SC(SYS_open, "f", O_WRONLY | O_APPEND));
    R(lseek(fd, 0, SEEK_SET));
    R(write(fd, "two;", 4));
    close(fd);
    show_file("f");
}

CASE(open_directory_flag, "open")
{
    put("f", "x");
    mkdir("d", 0755);
    R(SC(SYS_open, "f", O_RDONLY | O_DIRECTORY));
    int fd = R(SC(SYS_open, "d", O_RDONLY | O_DIRECTORY));
    close(fd);
    R(SC(SYS_open, "d", O_WRONLY));
    R(SC(SYS_open, "d", O_RDWR));
}

CASE(open_nofollow, "open symlink")
{
    put("f", "x");
    R(symlink("f", "l"));
    R(SC(SYS_open, "l", O_RDONLY | O_NOFOLLOW));
    int fd = R(SC(SYS_open, "l", O_RDONLY));
    close(fd);
}

CASE(open_trailing_slash, "open")
{
    put("f", "x");
    mkdir("d", 0755);
    R(SC(SYS_open, "f/", O_RDONLY));
    R(SC(SYS_open, "new/", O_CREAT | O_WRONLY, 0644));
    int fd = R(SC(SYS_open, "d/", O_RDONLY));
    close(fd);
}

CASE(open_enotdir_component, "open")
{
    put("f", "x");
    R(SC(SYS_open, "f/x", O_RDONLY));
    R(SC(SYS_open, "f/x", O_CREAT | O_WRONLY, 0644));
}

CASE(open_symlink_loop, "open symlink")
{
    R(symlink("a", "b"));
    R(symlink("b", "a"));
    R(SC(SYS_open, "a", O_RDONLY));
    R(symlink("self", "self"));
    R(SC(SYS_open, "self", O_RDONLY));
}

CASE(open_dangling_creat, "open symlink")
{
    R(symlink("target", "l"));
    int fd = R(SC(SYS_open, "l", O_CREAT | O_WRONLY, 0600));
    close(fd);
    show_lstat("target");
    R(SC(SYS_open, "l", O_CREAT | O_EXCL | O_WRONLY, 0600));
}

CASE(open_dotdot, "open mkdir")
{
    R(mkdir("d", 0755));
    put("top", "top");
    int fd = R(SC(SYS_open, "d/../top", O_RDONLY));
    close(fd);
    fd = R(SC(SYS_open, "d/./../d/../top", O_RDONLY));
    close(fd);
}

CASE(open_mode_umask, "open umask")
{
    R(umask(077));
    int fd = R(SC(SYS_open, "f", O_CREAT | O_WRONLY, 0666));
    close(fd);
    show_lstat("f");
    R(umask(0));
    fd = R(SC(SYS_open, "g", O_CREAT | O_WRONLY, 0666));
    close(fd);
    show_lstat("g");
}

CASE(open_einval_flags, "open")
{
    R(SC(SYS_open, "t", O_CREAT | O_TMPFILE | O_WRONLY, 0600));
    R(SC(SYS_open, "t", O_TMPFILE | O_RDONLY, 0600));
}

CASE(open_tmpfile, "open linkat")
{
    mkdir("d", 0755);
    int fd = R(SC(SYS_open, "d", O_TMPFILE | O_RDWR, 0600));
    if (fd < 0)
        return;
    R(write(fd, "anon", 4));
    show_dir("d");
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    R(linkat(AT_FDCWD, proc, AT_FDCWD, "d/named", AT_SYMLINK_FOLLOW));
    show_dir("d");
    show_file("d/named");
}

CASE(open_deleted_through_proc_fd, "open stat")
{
    int fd = MUST(open("gone", O_RDWR | O_CREAT, 0600));
    MUST(write(fd, "still here", 10));
    MUST(unlink("gone"));
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    struct stat st;
    R(stat(proc, &st));
    out("  size %ld nlink %ld\n", (long)st.st_size, (long)st.st_nlink);
    int again = R(open(proc, O_RDWR));
    char buf[16] = {0};
    R(read(again, buf, 10));
    out("  %s\n", buf);
    R(pwrite(again, "STILL", 5, 0));
    R(pread(fd, buf, 10, 0));
    out("  %s\n", buf);
}

CASE(openat_dirfd, "openat")
{
    mkdir("d", 0755);
    put("d/f", "inside");
    int dfd = R(openat(AT_FDCWD, "d", O_RDONLY | O_DIRECTORY));
    int fd = R(openat(dfd, "f", O_RDONLY));
    close(fd);
    R(openat(dfd, "missing", O_RDONLY));
    R(openat(fd, "f", O_RDONLY));
    R(openat(12345, "f", O_RDONLY));
    int ffd = MUST(open("d/f", O_RDONLY));
    R(openat(ffd, "x", O_RDONLY));
    close(ffd);
    close(dfd);
}

CASE(openat_absolute_ignores_dirfd, "openat")
{
    put("f", "x");
    char cwd[PATH_MAX], abs[PATH_MAX + 8];
    MUST((long)getcwd(cwd, sizeof cwd));
    snprintf(abs, sizeof abs, "%s/f", cwd);
    int fd = R(openat(9999, abs, O_RDONLY));
    close(fd);
}

CASE(openat_o_path, "openat newfstatat")
{
    put("f", "data");
    int fd = R(openat(AT_FDCWD, "f", O_PATH));
    char c;
    R(read(fd, &c, 1));
    struct stat st;
    R(fstat(fd, &st));
    show_stat_buf("fstat(O_PATH)", &st);
    close(fd);
}

CASE(openat2_resolve_beneath, "openat2")
{
    struct open_how how = {.flags = O_RDONLY, .resolve = RESOLVE_BENEATH};
    mkdir("d", 0755);
    put("top", "x");
    put("d/in", "x");
    int dfd = MUST(open("d", O_RDONLY | O_DIRECTORY));
    int fd = R(SC(SYS_openat2, dfd, "in", &how, sizeof how));
    close(fd);
    R(SC(SYS_openat2, dfd, "../top", &how, sizeof how));
    R(SC(SYS_openat2, dfd, "/etc/passwd", &how, sizeof how));
    close(dfd);
}

CASE(openat2_bad_args, "openat2")
{
    struct open_how how = {.flags = O_RDONLY, .mode = 0644};
    R(SC(SYS_openat2, AT_FDCWD, ".", &how, sizeof how));
    struct open_how how2 = {.flags = O_RDONLY, .resolve = 1ULL << 40};
    R(SC(SYS_openat2, AT_FDCWD, ".", &how2, sizeof how2));
    R(SC(SYS_openat2, AT_FDCWD, ".", &how2, 3));
}

CASE(creat_basic, "creat")
{
    int fd = R(SC(SYS_creat, "c", 0600));
    R(write(fd, "12345", 5));
    char b;
    R(read(fd, &b, 1));
    close(fd);
    show_lstat("c");
    fd = R(SC(SYS_creat, "c", 0644));
    close(fd);
    show_lstat("c");
}

CASE(close_twice, "close")
{
    int fd = MUST(open(".", O_RDONLY));
    R(close(fd));
    R(close(fd));
    R(close(-1));
}

CASE(close_range_basic, "close_range")
{
    int a = MUST(open(".", O_RDONLY)), b = MUST(dup(a)), c = MUST(dup(a));
    R(SC(SYS_close_range, b, c, 0));
    R(fcntl(a, F_GETFD));
    R(fcntl(b, F_GETFD));
    R(fcntl(c, F_GETFD));
    R(SC(SYS_close_range, a, a, 4 /* CLOSE_RANGE_CLOEXEC */));
    R(fcntl(a, F_GETFD));
    R(SC(SYS_close_range, 5, 3, 0));
}

CASE(truncate_grow_shrink, "truncate")
{
    put("f", "0123456789");
    R(SC(SYS_truncate, "f", 4));
    show_file("f");
    R(SC(SYS_truncate, "f", 8));
    show_lstat("f");
    R(SC(SYS_truncate, "missing", 1));
    R(SC(SYS_truncate, "f", -1));
    mkdir("d", 0755);
    R(SC(SYS_truncate, "d", 0));
}

CASE(ftruncate_basic, "ftruncate")
{
    int fd = MUST(open("f", O_CREAT | O_RDWR, 0644));
    R(ftruncate(fd, 100));
    struct stat st;
    fstat(fd, &st);
    show_stat_buf("f", &st);
    R(ftruncate(fd, -5));
    int ro = MUST(open("f", O_RDONLY));
    R(ftruncate(ro, 0));
    close(ro);
    close(fd);
}

CASE(fallocate_extend, "fallocate")
{
    int fd = MUST(open("f", O_CREAT | O_RDWR, 0644));
    R(fallocate(fd, 0, 0, 4096));
    struct stat st;
    fstat(fd, &st);
    show_stat_buf("f", &st);
    R(fallocate(fd, FALLOC_FL_KEEP_SIZE, 4096, 4096));
    fstat(fd, &st);
    show_stat_buf("f", &st);
    R(fallocate(fd, 0, 0, 0));
    close(fd);
}

CASE(rename_basic, "rename")
{
    put("a", "A");
    R(SC(SYS_rename, "a", "b"));
    show_dir(".");
    show_file("b");
    R(SC(SYS_rename, "a", "c"));
}

CASE(rename_replace, "rename")
{
    put("a", "A");
    put("b", "B");
    R(SC(SYS_rename, "a", "b"));
    show_dir(".");
    show_file("b");
}

CASE(rename_dir_rules, "rename mkdir")
{
    mkdir("d1", 0755);
    mkdir("d2", 0755);
    put("d2/x", "x");
    put("f", "f");
    R(SC(SYS_rename, "d1", "d2"));
    R(SC(SYS_rename, "f", "d1"));
    R(SC(SYS_rename, "d1", "f"));
    R(SC(SYS_rename, "d1", "d1/sub"));
    R(SC(SYS_rename, "d1", "d3"));
    show_dir(".");
}

CASE(rename_same_file, "rename link")
{
    put("a", "A");
    R(link("a", "b"));
    R(SC(SYS_rename, "a", "b"));
    show_dir(".");
}

CASE(renameat_dirfds, "renameat")
{
    mkdir("x", 0755);
    mkdir("y", 0755);
    put("x/f", "moved");
    int dx = MUST(open("x", O_RDONLY | O_DIRECTORY)), dy = MUST(open("y", O_RDONLY | O_DIRECTORY));
    R(SC(SYS_renameat, dx, "f", dy, "g"));
    show_dir("x");
    show_dir("y");
    close(dx);
    close(dy);
}

CASE(renameat2_noreplace, "renameat2")
{
    put("a", "A");
    put("b", "B");
    R(SC(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "b", RENAME_NOREPLACE));
    R(SC(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "c", RENAME_NOREPLACE));
    show_dir(".");
}

CASE(renameat2_exchange, "renameat2")
{
    put("a", "A");
    mkdir("b", 0755);
    R(SC(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "b", RENAME_EXCHANGE));
    show_lstat("a");
    show_lstat("b");
    R(SC(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "zz", RENAME_EXCHANGE));
    R(SC(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "b", RENAME_EXCHANGE | RENAME_NOREPLACE));
}

CASE(link_basic, "link")
{
    put("a", "shared");
    R(SC(SYS_link, "a", "b"));
    show_lstat("a");
    struct stat sa, sb;
    stat("a", &sa);
    stat("b", &sb);
    out("same inode: %d\n", sa.st_ino == sb.st_ino);
    R(SC(SYS_link, "a", "b"));
    R(SC(SYS_link, "missing", "c"));
    mkdir("d", 0755);
    R(SC(SYS_link, "d", "d2"));
}

CASE(linkat_symlink_follow, "linkat symlink")
{
    put("f", "x");
    symlink("f", "l");
    R(linkat(AT_FDCWD, "l", AT_FDCWD, "hl_nofollow", 0));
    R(linkat(AT_FDCWD, "l", AT_FDCWD, "hl_follow", AT_SYMLINK_FOLLOW));
    show_lstat("hl_nofollow");
    show_lstat("hl_follow");
    show_lstat("f");
}

CASE(symlink_basic, "symlink readlink")
{
    R(SC(SYS_symlink, "some/target", "l"));
    char buf[64] = {0};
    R(SC(SYS_readlink, "l", buf, sizeof buf));
    out("  target=%s\n", buf);
    R(SC(SYS_symlink, "x", "l"));
    R(SC(SYS_symlink, "", "empty"));
    show_lstat("l");
}

CASE(symlinkat_dirfd, "symlinkat readlinkat")
{
    mkdir("d", 0755);
    int dfd = MUST(open("d", O_RDONLY | O_DIRECTORY));
    R(symlinkat("../t", dfd, "l"));
    char buf[64] = {0};
    R(readlinkat(dfd, "l", buf, sizeof buf));
    out("  target=%s\n", buf);
    R(readlinkat(AT_FDCWD, "d/l", buf, 2));
    close(dfd);
}

CASE(readlink_errors, "readlink")
{
    char buf[16];
    put("f", "x");
    R(SC(SYS_readlink, "f", buf, sizeof buf));
    R(SC(SYS_readlink, "missing", buf, sizeof buf));
    symlink("abc", "l");
    R(SC(SYS_readlink, "l", buf, 0));
}

CASE(unlink_basic, "unlink")
{
    put("f", "x");
    R(SC(SYS_unlink, "f"));
    R(SC(SYS_unlink, "f"));
    mkdir("d", 0755);
    R(SC(SYS_unlink, "d"));
    symlink("d", "l");
    R(SC(SYS_unlink, "l"));
    show_dir(".");
}

CASE(unlink_open_file, "unlink read")
{
    put("f", "still readable");
    int fd = MUST(open("f", O_RDONLY));
    R(SC(SYS_unlink, "f"));
    char buf[32] = {0};
    R(read(fd, buf, sizeof buf - 1));
    out("  %s\n", buf);
    struct stat st;
    fstat(fd, &st);
    show_stat_buf("fstat", &st);
    close(fd);
}

CASE(unlinkat_removedir, "unlinkat")
{
    mkdir("d", 0755);
    mkdir("e", 0755);
    put("e/x", "");
    R(unlinkat(AT_FDCWD, "d", 0));
    R(unlinkat(AT_FDCWD, "d", AT_REMOVEDIR));
    R(unlinkat(AT_FDCWD, "e", AT_REMOVEDIR));
    R(unlinkat(AT_FDCWD, "e/x", AT_REMOVEDIR));
    R(unlinkat(AT_FDCWD, "e/x", 0x1000));
    show_dir(".");
}

CASE(mknod_fifo_and_reg, "mknod")
{
    R(SC(SYS_mknod, "fifo", S_IFIFO | 0644, 0));
    R(SC(SYS_mknod, "reg", S_IFREG | 0600, 0));
    R(SC(SYS_mknod, "reg", S_IFREG | 0600, 0));
    show_lstat("fifo");
    show_lstat("reg");
}

CASE(mknodat_dirfd, "mknodat")
{
    mkdir("d", 0755);
    int dfd = MUST(open("d", O_RDONLY | O_DIRECTORY));
    R(mknodat(dfd, "p", S_IFIFO | 0600, 0));
    R(mknodat(dfd, "s", S_IFSOCK | 0600, 0));
    show_dir("d");
    show_lstat("d/p");
    close(dfd);
}

CASE(umask_returns_previous, "umask")
{
    R(umask(027));
    R(umask(0777));
    R(umask(01777));
    R(umask(022));
}
