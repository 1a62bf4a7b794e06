/* dir family: mkdir, rmdir, getdents, getcwd, chdir, fchdir. */
#include "common.h"

// getcwd prints the scratch directory, which the harness rewrites to $TMP.

struct linux_dirent {
    unsigned long d_ino;
    unsigned long d_off;
    unsigned short d_reclen;
    char d_name[];
};

/* Sorted names (and types for getdents64) read with the raw syscall. */
static void list_raw(const char *path, int use64)
{
    char buf[4096], *names[128];
    int n = 0;
    int fd = MUST(open(path, O_RDONLY | O_DIRECTORY));
    for (;;) {
        long got = SC(use64 ? SYS_getdents64 : SYS_getdents, fd, buf, sizeof buf);
        if (got <= 0) {
            if (got < 0)
                out("  getdents: %s\n", errname(errno));
            break;
        }
        for (long off = 0; off < got;) {
            char name[300];
            if (use64) {
                struct dirent64 *d = (struct dirent64 *)(buf + off);
                snprintf(name, sizeof name, "%s:%d", d->d_name, d->d_type);
                off += d->d_reclen;
            } else {
                struct linux_dirent *d = (struct linux_dirent *)(buf + off);
                snprintf(name, sizeof name, "%s:%d", d->d_name, buf[off + d->d_reclen - 1]);
                off += d->d_reclen;
            }
            if (n < 128)
                names[n++] = strdup(name);
        }
    }
    close(fd);
    qsort(names, n, sizeof *names, name_cmp);
    out("  %s(%s):", use64 ? "getdents64" : "getdents", path);
    for (int i = 0; i < n; i++) {
        out(" %s", names[i]);
        free(names[i]);
    }
    out("\n");
}

CASE(mkdir_basic, "mkdir")
{
    R(SC(SYS_mkdir, "d", 0750));
    show_lstat("d");
    R(SC(SYS_mkdir, "d", 0750));
    R(SC(SYS_mkdir, "a/b", 0750));
    R(SC(SYS_mkdir, "d/", 0750));
    R(SC(SYS_mkdir, "e/", 0750));
    show_lstat("e");
}

CASE(mkdir_parent_nlink, "mkdir")
{
    R(SC(SYS_mkdir, "p", 0755));
    show_lstat("p");
    R(SC(SYS_mkdir, "p/a", 0755));
    R(SC(SYS_mkdir, "p/b", 0755));
    show_lstat("p");
    put("p/f", "");
    show_lstat("p");
}

CASE(mkdir_umask_sticky, "mkdir umask")
{
    umask(027);
    R(SC(SYS_mkdir, "d", 01777));
    show_lstat("d");
}

CASE(mkdir_enotdir, "mkdir")
{
    put("f", "");
    R(SC(SYS_mkdir, "f/d", 0755));
    R(SC(SYS_mkdir, "f", 0755));
    symlink("nowhere", "dangling");
    R(SC(SYS_mkdir, "dangling", 0755));
}

CASE(mkdirat_dirfd, "mkdirat")
{
    mkdir("base", 0755);
    int dfd = MUST(open("base", O_RDONLY | O_DIRECTORY));
    R(mkdirat(dfd, "sub", 0700));
    R(mkdirat(dfd, "sub", 0700));
    show_lstat("base/sub");
    int ffd = MUST(open("base/sub", O_RDONLY));
    R(mkdirat(ffd, "x", 0700));
    close(ffd);
    close(dfd);
}

CASE(rmdir_rules, "rmdir")
{
    mkdir("d", 0755);
    mkdir("full", 0755);
    put("full/f", "");
    put("f", "");
    R(SC(SYS_rmdir, "full"));
    R(SC(SYS_rmdir, "f"));
    R(SC(SYS_rmdir, "missing"));
    R(SC(SYS_rmdir, "d/."));
    R(SC(SYS_rmdir, "d/.."));
    R(SC(SYS_rmdir, "d"));
    show_dir(".");
}

CASE(rmdir_symlink_to_dir, "rmdir")
{
    mkdir("d", 0755);
    symlink("d", "l");
    R(SC(SYS_rmdir, "l"));
    R(SC(SYS_rmdir, "l/"));
    show_dir(".");
}

CASE(getdents64_types, "getdents64")
{
    mkdir("d", 0755);
    put("d/reg", "");
    mkdir("d/sub", 0755);
    symlink("reg", "d/lnk");
    mkfifo("d/fifo", 0644);
    list_raw("d", 1);
}

CASE(getdents_legacy, "getdents")
{
    mkdir("d", 0755);
    put("d/a", "");
    put("d/b", "");
    mkdir("d/c", 0755);
    list_raw("d", 0);
}

CASE(getdents64_many_entries, "getdents64")
{
    mkdir("d", 0755);
    char name[64];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "d/entry-with-a-longish-name-%03d", i);
        put(name, "");
    }
    /* A small buffer forces several calls; the union must be complete. */
    int fd = MUST(open("d", O_RDONLY | O_DIRECTORY));
    char buf[512];
    int total = 0, calls = 0;
    long got;
    while ((got = SC(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        calls++;
        for (long off = 0; off < got; off += ((struct dirent64 *)(buf + off))->d_reclen)
            total++;
    }
    out("entries=%d multiple_calls=%d last=%ld\n", total, calls > 1, got);
    close(fd);
}

CASE(getdents64_errors, "getdents64")
{
    char buf[16];
    put("f", "");
    int fd = MUST(open("f", O_RDONLY));
    R(SC(SYS_getdents64, fd, buf, sizeof buf));
    close(fd);
    fd = MUST(open(".", O_RDONLY | O_DIRECTORY));
    R(SC(SYS_getdents64, fd, buf, 1));
    close(fd);
    R(SC(SYS_getdents64, 999, buf, sizeof buf));
}

CASE(getdents64_after_unlink, "getdents64 unlink")
{
    mkdir("d", 0755);
    put("d/keep", "");
    put("d/gone", "");
    unlink("d/gone");
    list_raw("d", 1);
}

CASE(getcwd_basic, "getcwd")
{
    char buf[PATH_MAX];
    R(SC(SYS_getcwd, buf, sizeof buf) > 0);
    out("  cwd=%s\n", buf);
    mkdir("sub", 0755);
    chdir("sub");
    R(SC(SYS_getcwd, buf, sizeof buf) > 0);
    out("  cwd=%s\n", buf);
    R(SC(SYS_getcwd, buf, 1));
}

CASE(getcwd_removed_dir, "getcwd")
{
    char buf[PATH_MAX];
    mkdir("gone", 0755);
    chdir("gone");
    rmdir("../gone");
    long r = SC(SYS_getcwd, buf, sizeof buf);
    out("getcwd after rmdir: %s\n", r < 0 ? errname(errno) : (strstr(buf, "(unreachable)") ? "unreachable" : buf));
}

CASE(chdir_basic, "chdir")
{
    mkdir("d", 0755);
    put("d/f", "in d");
    put("f", "");
    R(SC(SYS_chdir, "d"));
    show_file("f");
    R(SC(SYS_chdir, ".."));
    R(SC(SYS_chdir, "f"));
    R(SC(SYS_chdir, "missing"));
}

CASE(chdir_through_symlink, "chdir getcwd")
{
    mkdir("real", 0755);
    symlink("real", "link");
    R(SC(SYS_chdir, "link"));
    char buf[PATH_MAX];
    getcwd(buf, sizeof buf);
    out("  cwd=%s\n", buf);
}

CASE(fchdir_basic, "fchdir")
{
    mkdir("d", 0755);
    put("d/marker", "m");
    int dfd = MUST(open("d", O_RDONLY | O_DIRECTORY));
    R(fchdir(dfd));
    show_file("marker");
    put("../file", "");
    int ffd = MUST(open("../file", O_RDONLY));
    R(fchdir(ffd));
    R(fchdir(1000));
    close(ffd);
    close(dfd);
}
