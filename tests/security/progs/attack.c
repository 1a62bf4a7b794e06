/* The attack catalogue's program: `attack NAME [ARGS...]` runs one attack from inside
   the sandbox and prints what it got, one line per attempt:
       <label> ret=<value> errno=<NAME>
   Anything read from a file is printed too, so a leaked secret shows in the output.
   Lines starting with "ESCAPE" mean the boundary did not hold. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <netinet/ip_icmp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE 2
#endif

static const char *ename(int e) {
    switch (e) {
#define E(x) case x: return #x;
        E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(E2BIG) E(EBADF) E(ECHILD) E(EAGAIN)
        E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR)
        E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ENOSPC) E(EROFS) E(EMLINK)
        E(ERANGE) E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENODATA) E(EPROTO)
        E(EOPNOTSUPP) E(EAFNOSUPPORT) E(EPROTONOSUPPORT) E(ENETUNREACH) E(EADDRNOTAVAIL)
        E(ESOCKTNOSUPPORT) E(EPFNOSUPPORT) E(ENOTSOCK) E(ENXIO) E(EXDEV + 1000)
#undef E
    default: return "E?";
    }
}

static long rep(const char *label, long ret) {
    int e = errno;
    if (ret < 0) printf("%s ret=%ld errno=%s\n", label, ret, ename(e));
    else printf("%s ret=%ld errno=none\n", label, ret);
    fflush(stdout);
    errno = e;
    return ret;
}

/* read what an fd gives and print it (a leaked secret shows up here) */
static void dump_fd(const char *label, int fd) {
    char buf[512];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n < 0) n = read(fd, buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = 0;
        for (ssize_t i = 0; i < n; i++) if (buf[i] == '\n' || buf[i] == 0) buf[i] = ' ';
        printf("%s data=[%s]\n", label, buf);
        fflush(stdout);
    }
}

static void try_open(const char *label, int dirfd, const char *path, int flags) {
    int fd = openat(dirfd, path, flags);
    rep(label, fd);
    if (fd >= 0) { dump_fd(label, fd); close(fd); }
}

static char *repeat(const char *unit, int n, const char *tail) {
    size_t len = strlen(unit) * n + strlen(tail) + 1;
    char *s = malloc(len), *p = s;
    for (int i = 0; i < n; i++) { strcpy(p, unit); p += strlen(unit); }
    strcpy(p, tail);
    return s;
}

static const char *secret;      /* absolute host path of the secret file */
static const char *secret_rel;  /* the same without the leading '/' */

/* ------------------------------------------------------------------ paths */

static int a_dotdot(void) {
    mkdir("/tmp/deep", 0755);
    mkdir("/tmp/deep/er", 0755);
    chdir("/tmp/deep/er");
    for (int k = 1; k <= 24; k += 3) {
        char label[64];
        snprintf(label, sizeof label, "dotdot%d", k);
        try_open(label, AT_FDCWD, repeat("../", k, secret_rel), O_RDONLY);
    }
    int dfd = open("/tmp", O_RDONLY | O_DIRECTORY);
    try_open("openat_dirfd", dfd, repeat("../", 16, secret_rel), O_RDONLY);
    try_open("openat_dirfd_mixed", dfd, repeat("./../x/../", 16, secret_rel), O_RDONLY);
    for (int i = 0; i < 64; i++) chdir("..");
    char cwd[4096];
    printf("cwd_after_chdir_up=%s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
    try_open("after_chdir_up", AT_FDCWD, secret_rel, O_RDONLY);
    try_open("root_dotdot", AT_FDCWD, repeat("/..", 30, secret), O_RDONLY);
    struct stat st;
    rep("stat_dotdot", stat(repeat("../", 30, secret_rel), &st));
    return 0;
}

static int a_symlink(void) {
    chdir("/tmp");
    rep("symlink_abs", symlink(secret, "/tmp/abs"));
    try_open("via_abs", AT_FDCWD, "/tmp/abs", O_RDONLY);
    rep("symlink_rel", symlink(repeat("../", 20, secret_rel), "/tmp/rel"));
    try_open("via_rel", AT_FDCWD, "/tmp/rel", O_RDONLY);
    rep("symlink_updir", symlink(repeat("../", 20, ""), "/tmp/up"));
    char path[4096];
    snprintf(path, sizeof path, "/tmp/up/%s", secret_rel);
    try_open("via_updir", AT_FDCWD, path, O_RDONLY);
    /* a chain of directory symlinks each climbing a little */
    rep("chain1", symlink("../..", "/tmp/c1"));
    rep("chain2", symlink("c1/../c1/..", "/tmp/c2"));
    snprintf(path, sizeof path, "/tmp/c2/%s/%s", repeat("../", 10, "tmp/c1"), secret_rel);
    try_open("via_chain", AT_FDCWD, path, O_RDONLY);
    /* O_PATH|O_NOFOLLOW on the link, then reopen through the magic link */
    int lfd = open("/tmp/abs", O_PATH | O_NOFOLLOW);
    rep("opath_link", lfd);
    snprintf(path, sizeof path, "/proc/self/fd/%d", lfd);
    try_open("via_opath_magic", AT_FDCWD, path, O_RDONLY);
    char buf[4096];
    ssize_t n = readlink("/tmp/abs", buf, sizeof buf - 1);
    rep("readlink_abs", n);
    /* loops */
    symlink("loop2", "/tmp/loop1");
    symlink("loop1", "/tmp/loop2");
    try_open("loop", AT_FDCWD, "/tmp/loop1", O_RDONLY);
    return 0;
}

static int a_magiclinks(void) {
    char path[4096];
    snprintf(path, sizeof path, "/proc/self/root%s", secret);
    try_open("proc_self_root", AT_FDCWD, path, O_RDONLY);
    snprintf(path, sizeof path, "/proc/1/root%s", secret);
    try_open("proc_1_root", AT_FDCWD, path, O_RDONLY);
    snprintf(path, sizeof path, "/proc/thread-self/root/%s", repeat("../", 12, secret_rel));
    try_open("proc_thread_self_root", AT_FDCWD, path, O_RDONLY);
    chdir("/tmp");
    snprintf(path, sizeof path, "/proc/self/cwd/%s", repeat("../", 12, secret_rel));
    try_open("proc_self_cwd", AT_FDCWD, path, O_RDONLY);
    int dfd = open("/tmp", O_PATH | O_DIRECTORY);
    snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dfd, repeat("../", 12, secret_rel));
    try_open("proc_fd_dir", AT_FDCWD, path, O_RDONLY);
    int procfd = open("/proc/self", O_PATH | O_DIRECTORY);
    snprintf(path, sizeof path, "root/%s", repeat("../", 12, secret_rel));
    try_open("openat_procfd_root", procfd, path, O_RDONLY);
    snprintf(path, sizeof path, "%s", repeat("../", 6, secret_rel));
    try_open("openat_procfd_up", procfd, path, O_RDONLY);
    char buf[4096];
    ssize_t n = readlink("/proc/self/root", buf, sizeof buf - 1);
    if (n >= 0) { buf[n] = 0; printf("readlink_root=%s\n", buf); }
    n = readlink("/proc/1/exe", buf, sizeof buf - 1);
    if (n >= 0) { buf[n] = 0; printf("readlink_init_exe=%s\n", buf); }
    n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n >= 0) { buf[n] = 0; printf("readlink_self_exe=%s\n", buf); }
    try_open("proc_1_exe", AT_FDCWD, "/proc/1/exe", O_RDONLY);
    /* the fds of init (pid 1): must show nothing of the sentry */
    for (int fd = 0; fd < 64; fd++) {
        snprintf(path, sizeof path, "/proc/1/fd/%d", fd);
        n = readlink(path, buf, sizeof buf - 1);
        if (n >= 0) { buf[n] = 0; printf("init_fd%d=%s\n", fd, buf); }
    }
    /* map_files of init: magic links to its mappings */
    try_open("proc_1_mem", AT_FDCWD, "/proc/1/mem", O_RDWR);
    return 0;
}

/* rename a directory upwards while another thread walks ".." through it */
static volatile int stop_flag;
static void *renamer(void *arg) {
    (void)arg;
    while (!stop_flag) {
        rename("/tmp/r/a/b/c", "/tmp/c");
        rename("/tmp/c", "/tmp/r/a/b/c");
    }
    return NULL;
}

static int a_rename_race(int iters) {
    mkdir("/tmp/r", 0755); mkdir("/tmp/r/a", 0755); mkdir("/tmp/r/a/b", 0755);
    mkdir("/tmp/r/a/b/c", 0755);
    pthread_t t;
    pthread_create(&t, NULL, renamer, NULL);
    char path[4096];
    snprintf(path, sizeof path, "/tmp/r/a/b/c/%s", repeat("../", 6, secret_rel));
    char rel[4096];
    snprintf(rel, sizeof rel, "%s", repeat("../", 6, secret_rel));
    int ok = 0, fail = 0;
    for (int i = 0; i < iters; i++) {
        int fd = open(path, O_RDONLY);
        if (fd >= 0) { ok++; dump_fd("ESCAPE rename_race", fd); close(fd); } else fail++;
        int dfd = open("/tmp/r/a/b/c", O_PATH | O_DIRECTORY);
        if (dfd >= 0) {
            fd = openat(dfd, rel, O_RDONLY);
            if (fd >= 0) { ok++; dump_fd("ESCAPE rename_race_dirfd", fd); close(fd); } else fail++;
            close(dfd);
        }
    }
    stop_flag = 1;
    pthread_join(t, NULL);
    printf("rename_race opened=%d failed=%d\n", ok, fail);
    return 0;
}

/* Symlink swaps and directory renames during every path syscall.  "/tmp/d" is a
   symlink swapped between "real" (a directory inside holding "secret", a decoy) and
   the host directory of the secret reached by "..". Each op works on "/tmp/d/...". */
static const char *escape_dir;
static void *swapper(void *arg) {
    (void)arg;
    for (int i = 0; !stop_flag; i++) {
        symlink(i % 2 ? escape_dir : "real", "/tmp/d.new");
        rename("/tmp/d.new", "/tmp/d");
        if (i % 7 == 0) {  /* and a rename swap of a real directory into place */
            syscall(SYS_renameat2, AT_FDCWD, "/tmp/real2", AT_FDCWD, "/tmp/d", RENAME_EXCHANGE);
        }
    }
    return NULL;
}

static int check_stat(const char *label, struct stat *st, long ino) {
    if ((long)st->st_ino == ino && st->st_size == 777) {
        printf("ESCAPE %s stat reached the host secret\n", label);
        return 1;
    }
    return 0;
}

static int a_swap(const char *op, const char *sdir_rel, long ino, int iters) {
    static char esc[4096];
    snprintf(esc, sizeof esc, "%s", repeat("../", 12, sdir_rel));
    escape_dir = esc;
    chdir("/tmp");
    mkdir("/tmp/real", 0755);
    mkdir("/tmp/real2", 0755);
    int fd = open("/tmp/real/secret", O_CREAT | O_WRONLY, 0644);
    write(fd, "DECOY", 5); close(fd);
    fd = open("/tmp/real2/secret", O_CREAT | O_WRONLY, 0644);
    write(fd, "DECOY2", 6); close(fd);
    symlink("real", "/tmp/d");
    pthread_t t;
    pthread_create(&t, NULL, swapper, NULL);
    int ok = 0, fail = 0, escapes = 0;
    char buf[4096];
    struct stat st;
    for (int i = 0; i < iters; i++) {
        long r = -1;
        if (!strcmp(op, "open")) {
            r = fd = open("/tmp/d/secret", O_RDONLY);
            if (fd >= 0) { ssize_t n = read(fd, buf, 100); buf[n > 0 ? n : 0] = 0; close(fd);
                if (strncmp(buf, "DECOY", 5)) { escapes++; printf("ESCAPE open read [%s]\n", buf); } }
        } else if (!strcmp(op, "openat2")) {
            struct { uint64_t flags, mode, resolve; } how = {O_RDONLY, 0, 0};
            r = fd = syscall(SYS_openat2, AT_FDCWD, "/tmp/d/secret", &how, sizeof how);
            if (fd >= 0) { ssize_t n = read(fd, buf, 100); buf[n > 0 ? n : 0] = 0; close(fd);
                if (strncmp(buf, "DECOY", 5)) { escapes++; printf("ESCAPE openat2 read [%s]\n", buf); } }
        } else if (!strcmp(op, "stat")) {
            r = stat("/tmp/d/secret", &st); if (!r) escapes += check_stat(op, &st, ino);
            r = lstat("/tmp/d/secret", &st); if (!r) escapes += check_stat(op, &st, ino);
            r = syscall(SYS_newfstatat, AT_FDCWD, "/tmp/d/secret", &st, 0);
            if (!r) escapes += check_stat(op, &st, ino);
            struct statx sx;
            r = syscall(SYS_statx, AT_FDCWD, "/tmp/d/secret", 0, STATX_BASIC_STATS, &sx);
            if (!r && (long)sx.stx_ino == ino && sx.stx_size == 777) { escapes++; printf("ESCAPE statx\n"); }
            r = access("/tmp/d/secret", R_OK);
            r = syscall(SYS_faccessat2, AT_FDCWD, "/tmp/d/secret", R_OK, 0);
        } else if (!strcmp(op, "xattr")) {
            r = getxattr("/tmp/d/secret", "user.x", buf, sizeof buf);
            r = listxattr("/tmp/d/secret", buf, sizeof buf);
            r = setxattr("/tmp/d/secret", "user.pwn", "1", 1, 0);
            r = removexattr("/tmp/d/secret", "user.pwn");
        } else if (!strcmp(op, "readlink")) {
            /* "/tmp/d/link" is a symlink inside real, and in the host dir? none: readlink
               of the directory link itself, and of a name under it */
            r = readlink("/tmp/d/secret", buf, sizeof buf);
            r = readlink("/tmp/d", buf, sizeof buf - 1);
        } else if (!strcmp(op, "modify")) {
            r = truncate("/tmp/d/secret", 1);
            r = chmod("/tmp/d/secret", 0777);
            r = chown("/tmp/d/secret", 1234, 1234);
            r = lchown("/tmp/d/secret", 1234, 1234);
            struct timespec ts[2] = {{1, 0}, {1, 0}};
            r = utimensat(AT_FDCWD, "/tmp/d/secret", ts, 0);
            struct timeval tv[2] = {{1, 0}, {1, 0}};
            r = utimes("/tmp/d/secret", tv);
            r = syscall(452, AT_FDCWD, "/tmp/d/secret", 0700, 0);
            r = fd = open("/tmp/d/secret", O_WRONLY | O_APPEND);
            if (fd >= 0) { write(fd, "X", 1); close(fd); }
        } else if (!strcmp(op, "create")) {
            char name[64];
            snprintf(name, sizeof name, "/tmp/d/new%d", i);
            r = mkdir(name, 0755);
            rmdir(name);
            r = fd = open(name, O_CREAT | O_WRONLY | O_EXCL, 0644);
            if (fd >= 0) close(fd);
            unlink(name);
            r = symlink("/etc/passwd", name);
            unlink(name);
            r = mknod(name, S_IFIFO | 0644, 0);
            unlink(name);
            r = link("/tmp/real2/secret", name);
            unlink(name);
        } else if (!strcmp(op, "remove")) {
            /* recreate the decoys each round: only they may ever go */
            fd = open("/tmp/real/secret", O_CREAT | O_WRONLY, 0644); if (fd >= 0) close(fd);
            fd = open("/tmp/real2/secret", O_CREAT | O_WRONLY, 0644); if (fd >= 0) close(fd);
            r = unlink("/tmp/d/secret");
            r = rename("/tmp/d/secret", "/tmp/stolen");
            fd = open("/tmp/stolen", O_RDONLY);
            if (fd >= 0) { ssize_t n = read(fd, buf, 100); buf[n > 0 ? n : 0] = 0; close(fd);
                if (strncmp(buf, "DECOY", 5) && n > 0) { escapes++; printf("ESCAPE rename read [%s]\n", buf); } }
            unlink("/tmp/stolen");
            r = link("/tmp/d/secret", "/tmp/stolen2");
            fd = open("/tmp/stolen2", O_RDONLY);
            if (fd >= 0) { ssize_t n = read(fd, buf, 100); buf[n > 0 ? n : 0] = 0; close(fd);
                if (strncmp(buf, "DECOY", 5) && n > 0) { escapes++; printf("ESCAPE link read [%s]\n", buf); } }
            unlink("/tmp/stolen2");
        } else if (!strcmp(op, "chdir")) {
            r = chdir("/tmp/d");
            if (!r) {
                fd = open("secret", O_RDONLY);
                if (fd >= 0) { ssize_t n = read(fd, buf, 100); buf[n > 0 ? n : 0] = 0; close(fd);
                    if (strncmp(buf, "DECOY", 5)) { escapes++; printf("ESCAPE chdir read [%s]\n", buf); } }
                if (getcwd(buf, sizeof buf) && strncmp(buf, "/tmp/", 5)) {
                    escapes++; printf("ESCAPE chdir cwd [%s]\n", buf); }
                chdir("/tmp");
            }
            r = fd = open("/tmp/d", O_RDONLY | O_DIRECTORY);
            if (fd >= 0) {
                int f2 = openat(fd, "secret", O_RDONLY);
                if (f2 >= 0) { ssize_t n = read(f2, buf, 100); buf[n > 0 ? n : 0] = 0; close(f2);
                    if (strncmp(buf, "DECOY", 5)) { escapes++; printf("ESCAPE dirfd read [%s]\n", buf); } }
                close(fd);
            }
        } else if (!strcmp(op, "exec")) {
            pid_t p = fork();
            if (p == 0) {
                char *argv[] = {"/tmp/d/secret", NULL};
                execve("/tmp/d/secret", argv, NULL);
                _exit(errno);
            }
            int status;
            waitpid(p, &status, 0);
            r = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) { escapes++; printf("ESCAPE exec ran\n"); }
        }
        if (r >= 0) ok++; else fail++;
    }
    stop_flag = 1;
    pthread_join(t, NULL);
    printf("swap %s ok=%d fail=%d escapes=%d\n", op, ok, fail, escapes);
    return 0;
}

static int a_longpath(void) {
    char *p = repeat("a", 5000, "");
    try_open("path_5000", AT_FDCWD, p, O_RDONLY);
    p = repeat("/", 4094, "");
    try_open("slashes_4094", AT_FDCWD, p, O_RDONLY);
    try_open("slashes_5000", AT_FDCWD, repeat("/", 5000, ""), O_RDONLY);
    try_open("name_256", AT_FDCWD, repeat("b", 256, ""), O_RDONLY);
    char *dots = repeat("../", 1360, secret_rel);  /* about 4 KiB */
    try_open("dotdot_4k", AT_FDCWD, dots, O_RDONLY);
    try_open("dotdot_8k", AT_FDCWD, repeat("../", 2800, secret_rel), O_RDONLY);
    /* deep tree: create 60 levels of 60-char names, then use a long relative path */
    chdir("/tmp");
    char name[80];
    memset(name, 'd', 60); name[60] = 0;
    int depth = 0;
    for (; depth < 80; depth++) {
        if (mkdir(name, 0755) < 0 || chdir(name) < 0) break;
    }
    printf("depth=%d\n", depth);
    char cwd[8192];
    long r = syscall(SYS_getcwd, cwd, sizeof cwd);
    rep("getcwd_deep", r);
    try_open("deep_escape", AT_FDCWD, repeat("../", 120, secret_rel), O_RDONLY);
    struct stat st;
    rep("stat_huge_unmapped_len", stat(repeat("c/", 3000, ""), &st));
    /* symlink of PATH_MAX-1 bytes */
    rep("symlink_4095", symlink(repeat("e", 4095, ""), "/tmp/big"));
    rep("symlink_4096", symlink(repeat("e", 4096, ""), "/tmp/big2"));
    char *lnk = malloc(8192);
    rep("readlink_4095", readlink("/tmp/big", lnk, 8192));
    return 0;
}

static int a_nonutf8(void) {
    chdir("/tmp");
    const char *weird[] = {"\xff\xfe", "\xc3\x28", "\xed\xa0\x80", "a\x80z", "\x1b[31m", "\xf4\x90\x80\x80"};
    for (unsigned i = 0; i < sizeof weird / sizeof *weird; i++) {
        char label[32];
        snprintf(label, sizeof label, "create%u", i);
        int fd = open(weird[i], O_CREAT | O_WRONLY, 0644);
        rep(label, fd);
        if (fd >= 0) { write(fd, "w", 1); close(fd); }
        snprintf(label, sizeof label, "reopen%u", i);
        try_open(label, AT_FDCWD, weird[i], O_RDONLY);
        struct stat st;
        snprintf(label, sizeof label, "stat%u", i);
        rep(label, stat(weird[i], &st));
        char path[4096];
        snprintf(path, sizeof path, "%s/../%s", weird[i], repeat("../", 10, secret_rel));
        snprintf(label, sizeof label, "escape%u", i);
        try_open(label, AT_FDCWD, path, O_RDONLY);
        snprintf(label, sizeof label, "mkdir%u", i);
        char d[64];
        snprintf(d, sizeof d, "dir%s", weird[i]);
        rep(label, mkdir(d, 0755));
        snprintf(label, sizeof label, "symlink%u", i);
        snprintf(path, sizeof path, "%s\xff/../%s", weird[i], repeat("../", 10, secret_rel));
        char l[64];
        snprintf(l, sizeof l, "lnk%s", weird[i]);
        rep(label, symlink(path, l));
        try_open(label, AT_FDCWD, l, O_RDONLY);
        rep("rename_weird", rename(weird[i], d));
    }
    /* xattr names and values that are not UTF-8 */
    rep("setxattr_weird", setxattr("/tmp", "user.\xff\xfe", "\xff", 1, 0));
    printf("nonutf8 done\n");
    return 0;
}

static int a_unmapped(void) {
    long pg = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(m + pg, pg);
    /* a path without its NUL before the unmapped page */
    memset(m, 'a', pg);
    memcpy(m + pg - 5, "/tmp/", 5);
    char *straddle = m + pg - 5;
    struct stat st;
    rep("open_straddle", open(straddle, O_RDONLY));
    rep("stat_straddle", stat(straddle, &st));
    rep("mkdir_straddle", mkdir(straddle, 0755));
    rep("unlink_straddle", unlink(straddle));
    rep("readlink_straddle", readlink(straddle, (char *)&st, sizeof st));
    rep("execve_straddle", syscall(SYS_execve, straddle, NULL, NULL));
    rep("chdir_straddle", chdir(straddle));
    rep("rename_straddle", rename("/tmp", straddle));
    rep("symlink_straddle", symlink(straddle, "/tmp/sl"));
    rep("symlink_straddle2", symlink("/tmp", straddle));
    /* a path whose NUL is exactly the last mapped byte: valid */
    memcpy(m + pg - 5, "/tmp", 5);
    rep("open_exact", open(m + pg - 5, O_RDONLY));
    rep("stat_exact", stat(m + pg - 5, &st));
    /* the result buffer straddling unmapped memory */
    rep("stat_result_straddle", stat("/tmp", (struct stat *)(m + pg - 16)));
    rep("readlink_result_straddle", readlink("/proc/self/exe", m + pg - 3, 64));
    rep("getcwd_result_straddle", syscall(SYS_getcwd, m + pg - 2, 64));
    /* bad pointers */
    char *bad[] = {NULL, (char *)1, (char *)0xffffffffffffUL, (char *)0xffffffff81000000UL,
                   (char *)-1L, m + pg};
    for (unsigned i = 0; i < sizeof bad / sizeof *bad; i++) {
        char label[32];
        snprintf(label, sizeof label, "open_bad%u", i);
        rep(label, syscall(SYS_openat, AT_FDCWD, bad[i], O_RDONLY));
        snprintf(label, sizeof label, "stat_bad%u", i);
        rep(label, syscall(SYS_newfstatat, AT_FDCWD, "/tmp", bad[i], 0));
        snprintf(label, sizeof label, "openat2_bad%u", i);
        rep(label, syscall(SYS_openat2, AT_FDCWD, "/tmp", bad[i], 24));
    }
    printf("unmapped done\n");
    return 0;
}

/* ---------------------------------------------------------- descriptors */

static int a_handle(void) {
    struct { unsigned int bytes; int type; unsigned char h[128]; } fh;
    int mount_id;
    fh.bytes = 128;
    rep("name_to_handle_at", syscall(SYS_name_to_handle_at, AT_FDCWD, "/etc/passwd", &fh, &mount_id, 0));
    /* forge handles: ino 2 (the root of a host filesystem), ino 11, generation 0 */
    unsigned int inos[] = {2, 11, 12, 128, 131073};
    int dfd = open("/", O_RDONLY | O_DIRECTORY);
    for (unsigned i = 0; i < sizeof inos / sizeof *inos; i++) {
        memset(&fh, 0, sizeof fh);
        fh.bytes = 8;
        fh.type = 1; /* FILEID_INO32_GEN */
        memcpy(fh.h, &inos[i], 4);
        char label[48];
        snprintf(label, sizeof label, "open_by_handle_ino%u", inos[i]);
        long fd = syscall(SYS_open_by_handle_at, dfd, &fh, O_RDONLY);
        rep(label, fd);
        if (fd >= 0) { printf("ESCAPE open_by_handle_at\n"); dump_fd(label, fd); }
    }
    rep("open_by_handle_cwd", syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY | O_DIRECTORY));
    return 0;
}

static void read_host_pids(long *pids, int n) {
    /* the test writes the host pids on stdin once the sandbox is up */
    for (int i = 0; i < n; i++) if (scanf("%ld", &pids[i]) != 1) pids[i] = 0;
}

static int a_sentry_proc(void) {
    long pids[4]; /* sentry, gofer, test, host sleeper */
    read_host_pids(pids, 4);
    const char *leaves[] = {"fd", "fd/0", "fd/3", "fd/4", "mem", "environ", "cmdline", "root", "cwd",
                            "maps", "status", "exe", "map_files", "ns/mnt", "task"};
    char path[256], buf[4096];
    for (int i = 0; i < 4; i++) {
        for (unsigned j = 0; j < sizeof leaves / sizeof *leaves; j++) {
            snprintf(path, sizeof path, "/proc/%ld/%s", pids[i], leaves[j]);
            int fd = open(path, O_RDONLY);
            printf("%s open=%d errno=%s\n", path, fd, fd < 0 ? ename(errno) : "none");
            if (fd >= 0) { printf("ESCAPE host pid visible\n"); dump_fd(path, fd); close(fd); }
            ssize_t n = readlink(path, buf, sizeof buf - 1);
            if (n >= 0) { buf[n] = 0; printf("ESCAPE readlink %s=%s\n", path, buf); }
        }
        snprintf(path, sizeof path, "/proc/%ld/root%s", pids[i], secret);
        try_open("host_pid_root_secret", AT_FDCWD, path, O_RDONLY);
    }
    return 0;
}

static int send_fd(int sock, int fd) {
    char c = 'x';
    struct iovec iov = {&c, 1};
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct msghdr msg = {0};
    msg.msg_iov = &iov; msg.msg_iovlen = 1;
    msg.msg_control = cbuf; msg.msg_controllen = sizeof cbuf;
    struct cmsghdr *c0 = CMSG_FIRSTHDR(&msg);
    c0->cmsg_level = SOL_SOCKET; c0->cmsg_type = SCM_RIGHTS; c0->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c0), &fd, sizeof fd);
    return sendmsg(sock, &msg, 0);
}

static int recv_fd(int sock) {
    char c;
    struct iovec iov = {&c, 1};
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct msghdr msg = {0};
    msg.msg_iov = &iov; msg.msg_iovlen = 1;
    msg.msg_control = cbuf; msg.msg_controllen = sizeof cbuf;
    if (recvmsg(sock, &msg, 0) <= 0) return -1;
    struct cmsghdr *c0 = CMSG_FIRSTHDR(&msg);
    if (!c0) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c0), sizeof fd);
    return fd;
}

static int a_scm_rights(void) {
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    const char *srcs[] = {"/", "/tmp", "/proc/self", "/proc", "/dev", "/etc/passwd"};
    int n = sizeof srcs / sizeof *srcs;
    pid_t p = fork();
    if (p == 0) {
        for (int i = 0; i < n; i++) {
            int fd = open(srcs[i], O_PATH);
            send_fd(sv[1], fd);
        }
        _exit(0);
    }
    char path[4096];
    for (int i = 0; i < n; i++) {
        int fd = recv_fd(sv[0]);
        char label[64];
        snprintf(label, sizeof label, "recv_%s", srcs[i]);
        rep(label, fd);
        if (fd < 0) continue;
        snprintf(label, sizeof label, "openat_up_%s", srcs[i]);
        try_open(label, fd, repeat("../", 16, secret_rel), O_RDONLY);
        snprintf(path, sizeof path, "/proc/self/fd/%d/%s", fd, repeat("../", 16, secret_rel));
        snprintf(label, sizeof label, "magic_up_%s", srcs[i]);
        try_open(label, AT_FDCWD, path, O_RDONLY);
        snprintf(path, sizeof path, "root%s", secret);
        snprintf(label, sizeof label, "openat_root_%s", srcs[i]);
        try_open(label, fd, path, O_RDONLY);
        if (fchdir(fd) == 0) {
            snprintf(label, sizeof label, "fchdir_up_%s", srcs[i]);
            try_open(label, AT_FDCWD, repeat("../", 16, secret_rel), O_RDONLY);
        }
    }
    waitpid(p, NULL, 0);
    /* a unix socket bound to an abstract name and one bound by path */
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un su = {AF_UNIX};
    snprintf(su.sun_path, sizeof su.sun_path, "%s", repeat("../", 10, "tmp/sock"));
    rep("bind_dotdot", bind(s, (struct sockaddr *)&su, sizeof su));
    struct stat st;
    rep("stat_sock_inside", stat("/tmp/sock", &st));
    return 0;
}

/* ------------------------------------------------------------- processes */

static int a_ptrace(void) {
    long pids[4];
    read_host_pids(pids, 4);
    rep("attach_init", syscall(SYS_ptrace, 16, 1, 0, 0));
    for (int i = 0; i < 4; i++) {
        char l[64];
        snprintf(l, sizeof l, "attach_host%d", i);
        rep(l, syscall(SYS_ptrace, 16, pids[i], 0, 0));
        snprintf(l, sizeof l, "seize_host%d", i);
        rep(l, syscall(SYS_ptrace, 0x4206, pids[i], 0, 0));
    }
    rep("traceme", syscall(SYS_ptrace, 0, 0, 0, 0));
    pid_t p = fork();
    if (p == 0) { pause(); _exit(0); }
    rep("attach_own_child", syscall(SYS_ptrace, 16, p, 0, 0));
    rep("seize_own_child", syscall(SYS_ptrace, 0x4206, p, 0, 0));
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    rep("pidfd_getfd", syscall(SYS_pidfd_getfd, 0, 0, 0));
    int pfd = syscall(SYS_pidfd_open, 1, 0);
    rep("pidfd_open_init", pfd);
    if (pfd >= 0) for (int i = 0; i < 8; i++) {
        long g = syscall(SYS_pidfd_getfd, pfd, i, 0);
        char l[32]; snprintf(l, sizeof l, "pidfd_getfd_init%d", i);
        rep(l, g);
    }
    return 0;
}

static int a_process_vm(void) {
    long pids[4];
    read_host_pids(pids, 4);
    char buf[64] = "PWNED";
    struct iovec local = {buf, sizeof buf};
    for (int i = 0; i < 4; i++) {
        struct iovec remote = {(void *)0x400000, 8};
        char l[64];
        snprintf(l, sizeof l, "writev_host%d", i);
        rep(l, syscall(SYS_process_vm_writev, pids[i], &local, 1, &remote, 1, 0));
        snprintf(l, sizeof l, "readv_host%d", i);
        rep(l, syscall(SYS_process_vm_readv, pids[i], &local, 1, &remote, 1, 0));
    }
    struct iovec remote = {(void *)0x400000, 8};
    rep("writev_init", syscall(SYS_process_vm_writev, 1, &local, 1, &remote, 1, 0));
    rep("readv_init", syscall(SYS_process_vm_readv, 1, &local, 1, &remote, 1, 0));
    rep("writev_self", syscall(SYS_process_vm_writev, getpid(), &local, 1, &remote, 1, 0));
    return 0;
}

static int a_kill(void) {
    long pids[4];
    read_host_pids(pids, 4);
    for (int i = 0; i < 4; i++) {
        char l[64];
        int sig = i >= 2 ? 0 : SIGKILL;  /* the test process and its sleeper: probe only */
        if (i == 3) sig = SIGKILL;        /* the host sleeper: kill it if it can be seen */
        snprintf(l, sizeof l, "kill_host%d", i);
        rep(l, kill(pids[i], sig));
        snprintf(l, sizeof l, "tgkill_host%d", i);
        rep(l, syscall(SYS_tgkill, pids[i], pids[i], sig));
        snprintf(l, sizeof l, "tkill_host%d", i);
        rep(l, syscall(SYS_tkill, pids[i], sig));
        snprintf(l, sizeof l, "pidfd_open_host%d", i);
        rep(l, syscall(SYS_pidfd_open, pids[i], 0));
        snprintf(l, sizeof l, "killpg_host%d", i);
        rep(l, kill(-pids[i], sig));
    }
    /* everyone we can see (only the sandbox's own processes) */
    signal(SIGTERM, SIG_IGN);
    rep("kill_all_term", kill(-1, SIGTERM));
    rep("kill_init", kill(1, SIGKILL));
    printf("still alive\n");
    return 0;
}

static int a_prctl(void) {
    rep("ambient_raise_sys_admin", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 21, 0, 0));
    rep("no_new_privs_off", prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
    rep("get_no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    rep("get_seccomp", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
    rep("set_mm_start_code", prctl(PR_SET_MM, PR_SET_MM_START_CODE, 0x1000, 0, 0));
    rep("set_mm_exe", prctl(PR_SET_MM, PR_SET_MM_EXE_FILE, 0, 0, 0));
    rep("capbset_read_sys_admin", prctl(PR_CAPBSET_READ, 21, 0, 0, 0));
    rep("set_dumpable", prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
    rep("set_securebits", prctl(PR_SET_SECUREBITS, 0, 0, 0, 0));
    rep("set_subreaper", prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
    rep("set_name", prctl(PR_SET_NAME, "sv-gofer", 0, 0, 0));
    /* capset: raise everything */
    struct { uint32_t version; int pid; } hdr = {0x20080522, 0};
    struct { uint32_t eff, perm, inh; } data[2] = {{~0u, ~0u, ~0u}, {~0u, ~0u, ~0u}};
    rep("capset_all", syscall(SYS_capset, &hdr, data));
    /* a second seccomp filter replacing or loosening the first is impossible; a stricter one is fine */
    struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, 0x7fff0000);
    struct sock_fprog prog = {1, &allow};
    rep("seccomp_allow_all", syscall(SYS_seccomp, 1, 0, &prog));
    rep("seccomp_listener", syscall(SYS_seccomp, 1, 8 /* NEW_LISTENER */, &prog));
    rep("prctl_seccomp_filter", prctl(PR_SET_SECCOMP, 2, &prog, 0, 0));
    /* after all that, still confined */
    rep("mount_after", syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL));
    rep("unshare_after", unshare(CLONE_NEWNS));
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Cap", 3) || !strncmp(line, "Seccomp", 7) || !strncmp(line, "NoNewPrivs", 10))
            fputs(line, stdout);
    return 0;
}

static int a_personality(void) {
    rep("query", syscall(SYS_personality, 0xffffffffUL));
    rep("read_implies_exec", syscall(SYS_personality, 0x0400000));
    rep("addr_no_randomize", syscall(SYS_personality, 0x0040000));
    rep("linux32", syscall(SYS_personality, 0x0008));
    rep("addr_limit_32bit", syscall(SYS_personality, 0x0800000));
    FILE *f = fopen("/proc/self/personality", "r");
    char line[64] = "";
    if (f && fgets(line, sizeof line, f)) printf("personality_now=%s", line);
    return 0;
}

/* ------------------------------------------------------ kernel surfaces */

static int a_io_uring(void) {
    char params[120] = {0};
    rep("io_uring_setup", syscall(SYS_io_uring_setup, 8, params));
    rep("io_uring_enter", syscall(SYS_io_uring_enter, 3, 1, 1, 0, NULL, 0));
    rep("io_uring_register", syscall(SYS_io_uring_register, 3, 0, NULL, 0));
    return 0;
}

static int a_bpf(void) {
    char attr[128] = {0};
    for (int cmd = 0; cmd < 8; cmd++) {
        char l[32]; snprintf(l, sizeof l, "bpf_cmd%d", cmd);
        rep(l, syscall(SYS_bpf, cmd, attr, sizeof attr));
    }
    /* classic BPF on a socket is harmless and allowed: check it cannot reach the host */
    return 0;
}

static int a_userfaultfd(void) {
    rep("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
    rep("userfaultfd_user_only", syscall(SYS_userfaultfd, 1));
    int fd = open("/dev/userfaultfd", O_RDWR);
    rep("dev_userfaultfd", fd);
    return 0;
}

static int a_perf(void) {
    char attr[128] = {0};
    *(uint32_t *)(attr + 4) = sizeof attr;
    rep("perf_self", syscall(SYS_perf_event_open, attr, 0, -1, -1, 0));
    rep("perf_all_cpus", syscall(SYS_perf_event_open, attr, -1, 0, -1, 0));
    return 0;
}

static int a_keyctl(void) {
    rep("join_session", syscall(SYS_keyctl, 1 /* JOIN_SESSION_KEYRING */, NULL));
    rep("read_user", syscall(SYS_keyctl, 11 /* READ */, -4 /* @u */, NULL, 0));
    rep("describe_session", syscall(SYS_keyctl, 6, -3, NULL, 0));
    rep("search", syscall(SYS_keyctl, 10, -4, "user", "x", 0));
    return 0;
}

static int a_add_key(void) {
    rep("add_key_user", syscall(SYS_add_key, "user", "sandvisor-probe", "v", 1, -4));
    rep("add_key_session", syscall(SYS_add_key, "keyring", "sv", NULL, 0, -3));
    rep("request_key", syscall(SYS_request_key, "user", "sandvisor-probe", NULL, 0));
    return 0;
}

static int a_mount(void) {
    rep("mount_tmpfs", syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL));
    rep("mount_proc", syscall(SYS_mount, "proc", "/mnt", "proc", 0, NULL));
    rep("mount_bind_root", syscall(SYS_mount, "/", "/tmp", NULL, MS_BIND | MS_REC, NULL));
    rep("remount_rw", syscall(SYS_mount, NULL, "/sys", NULL, MS_REMOUNT | MS_BIND, NULL));
    rep("umount_proc", syscall(SYS_umount2, "/proc", MNT_DETACH));
    rep("umount_dev", syscall(SYS_umount2, "/dev", MNT_DETACH));
    rep("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
    rep("chroot", chroot("/tmp"));
    rep("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
    rep("fspick", syscall(SYS_fspick, AT_FDCWD, "/", 0));
    rep("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */));
    rep("move_mount", syscall(SYS_move_mount, AT_FDCWD, "/proc", AT_FDCWD, "/tmp", 0));
    rep("mount_setattr", syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, NULL, 0));
    int nsfd = open("/proc/1/ns/mnt", O_RDONLY);
    rep("open_ns", nsfd);
    rep("setns", syscall(SYS_setns, nsfd, 0));
    return 0;
}

static int a_unshare(void) {
    int flags[] = {CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWUTS,
                   CLONE_NEWIPC, CLONE_NEWCGROUP, 0x80 /* CLONE_NEWTIME */,
                   CLONE_NEWNS | CLONE_NEWUSER};
    for (unsigned i = 0; i < sizeof flags / sizeof *flags; i++) {
        char l[32]; snprintf(l, sizeof l, "unshare_%x", flags[i]);
        rep(l, unshare(flags[i]));
    }
    return 0;
}

static int a_clone_ns(void) {
    int flags[] = {CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWUTS,
                   CLONE_NEWIPC, CLONE_NEWCGROUP, CLONE_NEWUSER | CLONE_NEWNS};
    for (unsigned i = 0; i < sizeof flags / sizeof *flags; i++) {
        long r = syscall(SYS_clone, flags[i] | SIGCHLD, 0, 0, 0, 0);
        if (r == 0) { printf("ESCAPE child in a new namespace\n"); fflush(stdout); _exit(0); }
        char l[32]; snprintf(l, sizeof l, "clone_%x", flags[i]);
        rep(l, r);
        if (r > 0) waitpid(r, NULL, 0);
    }
    struct { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls; } args = {0};
    args.flags = CLONE_NEWUSER | CLONE_NEWNS;
    args.exit_signal = SIGCHLD;
    long r = syscall(SYS_clone3, &args, sizeof args);
    if (r == 0) { printf("ESCAPE clone3 child\n"); fflush(stdout); _exit(0); }
    rep("clone3_newns", r);
    return 0;
}

static int a_raw_socket(const char *host_ip) {
    int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    rep("raw_icmp", s);
    struct sockaddr_in dst = {AF_INET};
    dst.sin_addr.s_addr = inet_addr(host_ip);
    struct icmphdr icmp = {ICMP_ECHO, 0};
    icmp.un.echo.id = 0x5356;
    if (s >= 0) rep("raw_send_host", sendto(s, &icmp, sizeof icmp, 0, (struct sockaddr *)&dst, sizeof dst));
    int r = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    rep("raw_ipproto_raw", r);
    if (r >= 0) rep("raw_ip_send_host", sendto(r, &icmp, sizeof icmp, 0, (struct sockaddr *)&dst, sizeof dst));
    int t = socket(AF_INET, SOCK_STREAM, 0);
    dst.sin_port = htons(22);
    rep("tcp_connect_host", connect(t, (struct sockaddr *)&dst, sizeof dst));
    int u = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    rep("raw_icmp6", u);
    return 0;
}

static int a_packet(const char *host_if) {
    int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    rep("packet_socket", s);
    unsigned idx = if_nametoindex(host_if);
    printf("host_if_index=%u\n", idx);
    struct ifconf ifc;
    char buf[4096];
    ifc.ifc_len = sizeof buf; ifc.ifc_buf = buf;
    int d = socket(AF_INET, SOCK_DGRAM, 0);
    if (ioctl(d, SIOCGIFCONF, &ifc) == 0) {
        for (struct ifreq *r = ifc.ifc_req; (char *)r < buf + ifc.ifc_len; r++)
            printf("iface=%s\n", r->ifr_name);
    }
    FILE *f = fopen("/proc/net/dev", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) if (strchr(line, ':')) printf("netdev %s", line);
    if (s >= 0) {
        struct sockaddr_ll sll = {0};
        sll.sll_family = AF_PACKET; sll.sll_protocol = htons(ETH_P_ALL); sll.sll_ifindex = 2;
        rep("packet_bind_if2", bind(s, (struct sockaddr *)&sll, sizeof sll));
        struct timeval tv = {1, 0};
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        /* anything captured must be loopback traffic of the sandbox itself */
        struct sockaddr_ll from; socklen_t fl = sizeof from;
        int got = 0;
        for (int i = 0; i < 20; i++) {
            if (recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) < 0) break;
            got++;
            if (from.sll_ifindex != 1) printf("ESCAPE captured on ifindex %d\n", from.sll_ifindex);
        }
        printf("captured=%d\n", got);
    }
    return 0;
}

static int a_netlink(void) {
    int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    rep("netlink_route", s);
    struct { struct nlmsghdr h; struct ifinfomsg i; } req = {0};
    req.h.nlmsg_len = sizeof req; req.h.nlmsg_type = RTM_GETLINK;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP; req.h.nlmsg_seq = 1;
    req.i.ifi_family = AF_UNSPEC;
    send(s, &req, sizeof req, 0);
    char buf[32768];
    int done = 0;
    while (!done) {
        int n = recv(s, buf, sizeof buf, 0);
        if (n <= 0) break;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) { done = 1; break; }
            struct ifinfomsg *ifi = NLMSG_DATA(h);
            int len = h->nlmsg_len - NLMSG_LENGTH(sizeof *ifi);
            for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
                if (a->rta_type == IFLA_IFNAME) printf("link=%s\n", (char *)RTA_DATA(a));
        }
    }
    /* create a dummy link: needs CAP_NET_ADMIN */
    struct { struct nlmsghdr h; struct ifinfomsg i; char attrs[64]; } nl = {0};
    nl.h.nlmsg_type = RTM_NEWLINK;
    nl.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
    struct rtattr *name = (struct rtattr *)nl.attrs;
    name->rta_type = IFLA_IFNAME; name->rta_len = RTA_LENGTH(6);
    memcpy(RTA_DATA(name), "pwn0\0", 5);
    struct rtattr *info = (struct rtattr *)(nl.attrs + RTA_ALIGN(name->rta_len));
    info->rta_type = IFLA_LINKINFO;
    struct rtattr *kind = RTA_DATA(info);
    kind->rta_type = 1; /* IFLA_INFO_KIND */ kind->rta_len = RTA_LENGTH(6);
    memcpy(RTA_DATA(kind), "dummy", 6);
    info->rta_len = RTA_LENGTH(RTA_ALIGN(kind->rta_len));
    nl.h.nlmsg_len = NLMSG_LENGTH(sizeof nl.i) + RTA_ALIGN(name->rta_len) + info->rta_len;
    send(s, &nl, nl.h.nlmsg_len, 0);
    int n = recv(s, buf, sizeof buf, 0);
    if (n > 0) {
        struct nlmsghdr *h = (struct nlmsghdr *)buf;
        if (h->nlmsg_type == NLMSG_ERROR) {
            struct nlmsgerr *e = NLMSG_DATA(h);
            printf("newlink errno=%s\n", e->error ? ename(-e->error) : "none");
        }
    }
    int u = socket(AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT);
    rep("netlink_uevent", u);
    struct sockaddr_nl sa = {AF_NETLINK, 0, 0, 1};
    if (u >= 0) rep("uevent_bind", bind(u, (struct sockaddr *)&sa, sizeof sa));
    return 0;
}

/* ------------------------------------------------------------------- ABI */

static int a_i386(void) {
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(5 /* i386 open */), "b"("/etc/passwd"), "c"(0) : "memory");
    printf("ESCAPE i386 syscall ran: %ld\n", ret);
    return 0;
}

static int a_x32(void) {
    long ret = syscall(0x40000000 | SYS_open, "/etc/passwd", 0);
    printf("ESCAPE x32 syscall ran: %ld\n", ret);
    return 0;
}

static int a_vsyscall(void) {
    /* the legacy vsyscall page: gettimeofday, time, getcpu; SIGSEGV when disabled */
    typedef long (*gtod_t)(struct timeval *, void *);
    typedef long (*time_t_)(long *);
    struct timeval tv;
    long r = ((gtod_t)0xffffffffff600000UL)(&tv, NULL);
    printf("vsyscall_gettimeofday=%ld\n", r);
    r = ((time_t_)0xffffffffff600400UL)(NULL);
    printf("vsyscall_time=%d\n", r > 0);
    fflush(stdout);
    /* jumping into the middle of the page must fault, not run a syscall */
    r = ((time_t_)0xffffffffff600010UL)(NULL);
    printf("ESCAPE vsyscall middle ran: %ld\n", r);
    return 0;
}

/* ------------------------------------------ TOCTOU on pointer arguments */

static char race_path[4096];
static struct { uint64_t flags, mode, resolve; } race_how;
static const char *race_a, *race_b;
static void *flipper(void *arg) {
    (void)arg;
    size_t la = strlen(race_a) + 1, lb = strlen(race_b) + 1;
    for (int i = 0; !stop_flag; i++) {
        if (i & 1) memcpy(race_path, race_a, la); else memcpy(race_path, race_b, lb);
        race_how.flags = (i & 2) ? (O_WRONLY | O_TRUNC) : O_RDONLY;
        race_how.resolve = (i & 4) ? 0 : 0x08 /* RESOLVE_IN_ROOT */;
    }
    return NULL;
}

static int a_toctou(const char *host_script, int iters) {
    static char esc[4096];
    snprintf(esc, sizeof esc, "/tmp/%s", repeat("../", 12, secret_rel));
    race_a = "/tmp/decoy";
    race_b = esc;
    int fd = open("/tmp/decoy", O_CREAT | O_WRONLY, 0644);
    write(fd, "DECOY", 5); close(fd);
    memcpy(race_path, race_a, strlen(race_a) + 1);
    pthread_t t;
    pthread_create(&t, NULL, flipper, NULL);
    int opened = 0, escapes = 0;
    char buf[256];
    for (int i = 0; i < iters; i++) {
        fd = open(race_path, O_RDONLY);
        if (fd >= 0) { opened++; ssize_t n = read(fd, buf, sizeof buf - 1); buf[n > 0 ? n : 0] = 0;
            close(fd); if (strncmp(buf, "DECOY", 5)) { escapes++; printf("ESCAPE toctou read [%s]\n", buf); } }
        struct stat st;
        stat(race_path, &st);
        fd = syscall(SYS_openat2, AT_FDCWD, "/ro/keep", &race_how, sizeof race_how);
        if (fd >= 0) close(fd);
        struct { uint64_t flags, mode, resolve; } ro_how = {O_RDONLY, 0, 0};
        fd = syscall(SYS_openat2, AT_FDCWD, race_path, &ro_how, sizeof ro_how);
        if (fd >= 0) { ssize_t n = read(fd, buf, sizeof buf - 1); buf[n > 0 ? n : 0] = 0; close(fd);
            if (n > 0 && strncmp(buf, "DECOY", 5)) { escapes++; printf("ESCAPE toctou openat2 [%s]\n", buf); } }
        if (i % 20 == 0) {
            /* execve and chdir are checked, then continued: flip between an
               executable inside and a host script outside the root */
            pid_t p = fork();
            if (p == 0) {
                char *argv[] = {"x", NULL};
                race_a = "/bin/true";
                race_b = host_script;
                execve(race_path, argv, NULL);
                _exit(errno == ENOENT ? 3 : 4);
            }
            int status;
            waitpid(p, &status, 0);
            if (chdir(race_path) == 0) {
                if (getcwd(buf, sizeof buf) && strcmp(buf, "/tmp/decoy") && strncmp(buf, "/", 1)) {
                    escapes++; printf("ESCAPE chdir [%s]\n", buf); }
                chdir("/");
            }
        }
    }
    /* execve through a flipping path: the parent does the flipping thread itself */
    race_a = "/bin/true";
    race_b = host_script;
    for (int i = 0; i < 40; i++) {
        pid_t p = fork();
        if (p == 0) {
            pthread_t t2;
            pthread_create(&t2, NULL, flipper, NULL);
            char *argv[] = {"x", NULL};
            execve(race_path, argv, NULL);
            _exit(3);
        }
        int status;
        waitpid(p, &status, 0);
    }
    stop_flag = 1;
    pthread_join(t, NULL);
    printf("toctou opened=%d escapes=%d\n", opened, escapes);
    return 0;
}

/* -------------------------------------------------------------- resources */

static int a_forkbomb(void) {
    /* every process keeps forking for a few seconds; the pids limit must hold it */
    time_t end = time(NULL) + 4;
    int failures = 0, made = 0;
    pid_t top = getpid();
    while (time(NULL) < end) {
        pid_t p = fork();
        if (p < 0) { failures++; usleep(1000); continue; }
        if (p > 0) made++;
        if (failures > 200) break;
    }
    if (getpid() != top) _exit(0);
    while (wait(NULL) > 0) {}
    printf("forkbomb contained made=%d failures=%d\n", made, failures > 0);
    return 0;
}

static volatile int flood_errors;
static void *flood_thread(void *arg) {
    long id = (long)arg;
    char path[64];
    struct stat st;
    for (int i = 0; i < 200; i++) {
        int exists = (i + id) % 2;
        snprintf(path, sizeof path, exists ? "/tmp/flood/f%d" : "/tmp/flood/missing%d", i % 10);
        int r = stat(path, &st);
        if (exists ? (r != 0 || st.st_size != i % 10) : (r != -1 || errno != ENOENT))
            __sync_fetch_and_add(&flood_errors, 1);
    }
    return NULL;
}

static int a_flood(void) {
    mkdir("/tmp/flood", 0755);
    for (int i = 0; i < 10; i++) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/flood/f%d", i);
        int fd = open(path, O_CREAT | O_WRONLY, 0644);
        write(fd, "0123456789", i);
        close(fd);
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_t t[200];
    int made = 0;
    for (long i = 0; i < 200; i++) if (pthread_create(&t[i], &attr, flood_thread, (void *)i) == 0) made++;
    for (int i = 0; i < made; i++) pthread_join(t[i], NULL);
    printf("flood threads=%d calls=%d errors=%d\n", made, made * 200, flood_errors);
    return 0;
}

static int a_fds(void) {
    struct rlimit rl = {256, 256};
    rep("lower_nofile", setrlimit(RLIMIT_NOFILE, &rl));
    rl.rlim_cur = rl.rlim_max = 1 << 20;
    rep("raise_nofile", setrlimit(RLIMIT_NOFILE, &rl));
    int n = 0, last = 0, err = 0;
    for (int i = 0; i < 400; i++) {
        int fd = open(i % 2 ? "/etc/passwd" : "/tmp", O_RDONLY);
        if (fd < 0) { err = errno; break; }
        n++; last = fd;
    }
    printf("opened=%d last=%d stop=%s\n", n, last, ename(err));
    /* with a full table, every emulated open must fail cleanly, many times */
    int emfile = 0;
    for (int i = 0; i < 300; i++) {
        int fd = open("/etc/passwd", O_RDONLY);
        if (fd < 0 && errno == EMFILE) emfile++; else if (fd >= 0) close(fd);
        int s[2];
        if (pipe(s) == 0) { close(s[0]); close(s[1]); }
        fd = syscall(SYS_openat2, AT_FDCWD, "/tmp", &(struct { uint64_t a, b, c; }){O_RDONLY, 0, 0}, 24);
        if (fd >= 0) close(fd);
    }
    printf("emfile=%d\n", emfile);
    struct stat st;
    rep("stat_while_full", stat("/etc/passwd", &st));
    for (int fd = 3; fd <= last; fd++) close(fd);
    int fd = open("/etc/passwd", O_RDONLY);
    rep("open_after", fd);
    if (fd >= 0) dump_fd("open_after", fd);
    return 0;
}

static int a_bigargs(const char *mode) {
    /* execve ourselves with a huge argument vector or environment */
    size_t total = 1 << 20;
    int argc = 0;
    char **argv = calloc(70000, sizeof *argv), **envp = calloc(70000, sizeof *envp);
    argv[argc++] = "/proc/self/exe";
    argv[argc++] = "bigargs-child";
    int envc = 0;
    size_t len;
    if (!strcmp(mode, "argv") || !strcmp(mode, "env")) len = 1024;
    else if (!strcmp(mode, "one_huge")) len = 200 * 1024;
    else len = 16;  /* many */
    char **vec = !strcmp(mode, "env") ? envp : argv;
    int *cnt = !strcmp(mode, "env") ? &envc : &argc;
    for (size_t used = 0; used < total && *cnt < 69990; used += len) {
        char *s = malloc(len);
        memset(s, 'A' + (*cnt % 26), len - 1);
        s[len - 1] = 0;
        if (vec == envp) s[0] = 'K', s[1] = '=';
        vec[(*cnt)++] = s;
    }
    argv[argc] = NULL; envp[envc] = NULL;
    pid_t p = fork();
    if (p == 0) {
        execve("/proc/self/exe", argv, envp);
        printf("execve %s errno=%s\n", mode, ename(errno));
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(p, &status, 0);
    printf("bigargs %s status=%d\n", mode, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}

static int a_sysctl(void) {
    /* write the current value back: harmless if it gets through, but it must not */
    const char *files[] = {"/proc/sys/kernel/core_pattern", "/proc/sys/vm/swappiness",
                           "/proc/sys/kernel/modprobe", "/proc/sys/fs/file-max"};
    for (unsigned i = 0; i < sizeof files / sizeof *files; i++) {
        char buf[4096] = "";
        int fd = open(files[i], O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
        if (fd >= 0) close(fd);
        if (n <= 0) { printf("%s unreadable\n", files[i]); continue; }
        fd = open(files[i], O_WRONLY);
        char l[128];
        snprintf(l, sizeof l, "open_w %s", files[i]);
        rep(l, fd);
        if (fd >= 0) {
            snprintf(l, sizeof l, "write %s", files[i]);
            if (rep(l, write(fd, buf, n)) >= 0) printf("ESCAPE wrote host sysctl %s\n", files[i]);
            close(fd);
        }
    }
    int fd = open("/proc/sysrq-trigger", O_WRONLY);
    rep("open_w sysrq", fd);  /* never written */
    return 0;
}

static int a_mknod(void) {
    /* device nodes of the host's disks and memory */
    struct { const char *name; mode_t mode; dev_t dev; } nodes[] = {
        {"/tmp/vda", S_IFBLK, makedev(254, 0)}, {"/tmp/sda", S_IFBLK, makedev(8, 0)},
        {"/tmp/mem", S_IFCHR, makedev(1, 1)}, {"/tmp/kmsg", S_IFCHR, makedev(1, 11)},
        {"/dev/shm/vda", S_IFBLK, makedev(254, 0)}, {"/dev/vda", S_IFBLK, makedev(254, 0)},
    };
    for (unsigned i = 0; i < sizeof nodes / sizeof *nodes; i++) {
        char l[64];
        snprintf(l, sizeof l, "mknod %s", nodes[i].name);
        rep(l, mknod(nodes[i].name, nodes[i].mode | 0600, nodes[i].dev));
        snprintf(l, sizeof l, "open %s", nodes[i].name);
        int fd = open(nodes[i].name, O_RDONLY);
        rep(l, fd);
        if (fd >= 0) { printf("ESCAPE device node opened\n"); close(fd); }
    }
    return 0;
}

static int a_tiocsti(void) {
    const char *inject = "echo INJECTED-BY-SANDBOX\n";
    int n = 0;
    for (const char *c = inject; *c; c++) if (ioctl(0, TIOCSTI, c) == 0) n++;
    printf("tiocsti_fd0 injected=%d errno=%s\n", n, ename(errno));
    int fd = open("/dev/tty", O_RDWR);
    rep("open_dev_tty", fd);
    n = 0;
    if (fd >= 0) for (const char *c = inject; *c; c++) if (ioctl(fd, TIOCSTI, c) == 0) n++;
    printf("tiocsti_devtty injected=%d\n", n);
    /* and TIOCLINUX / TIOCCONS: console tricks */
    rep("tioccons", ioctl(0, TIOCCONS, 0));
    return 0;
}


/* init (pid 1 of the sandbox) runs without the filter and with every capability:
   its memory must be out of reach, or the application could run unfiltered code */
static int a_init_mem(void) {
    FILE *f = fopen("/proc/1/maps", "r");
    char line[512];
    unsigned long start = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long s, e; char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) == 3 && perms[2] == 'x') { start = s; break; }
    }
    printf("init_text=%s\n", start ? "found" : "none");
    int fd = open("/proc/1/mem", O_RDWR);
    rep("open_init_mem_rw", fd);
    if (fd < 0) return 0;
    unsigned char buf[16];
    long n = pread(fd, buf, sizeof buf, start);
    rep("pread_init_text", n);
    if (n == (long)sizeof buf) {
        /* write the very bytes that are there: proves the write, changes nothing */
        if (rep("pwrite_init_text", pwrite(fd, buf, sizeof buf, start)) == (long)sizeof buf)
            printf("ESCAPE wrote the memory of unfiltered init\n");
    }
    return 0;
}

/* init's descriptors (the status pipe to the sentry) reopened through /proc */
static int a_init_fds(void) {
    char path[64], buf[256];
    for (int fd = 3; fd < 64; fd++) {
        snprintf(path, sizeof path, "/proc/1/fd/%d", fd);
        ssize_t n = readlink(path, buf, sizeof buf - 1);
        if (n < 0) continue;
        buf[n] = 0;
        int w = open(path, O_WRONLY | O_NONBLOCK);
        printf("init_fd%d=%s open_w=%d errno=%s\n", fd, buf, w, w < 0 ? ename(errno) : "none");
        if (w >= 0) {
            if (write(w, "exit 0\n", 7) == 7) printf("wrote a fake status to init fd %d\n", fd);
            close(w);
        }
    }
    return 42;  /* the sandbox must report 42 */
}


/* memory the application cannot read itself (PROT_NONE) must not be read for it */
static int a_protnone(void) {
    long pg = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memcpy(m + pg - 5, "/tmp/", 5);   /* the NUL would be in the next page */
    mprotect(m + pg, pg, PROT_NONE);
    struct stat st;
    rep("stat_straddle_protnone", stat(m + pg - 5, &st));
    rep("open_straddle_protnone", open(m + pg - 5, O_RDONLY));
    rep("stat_in_protnone", stat(m + pg, &st));
    return 0;
}

/* linkat of a descriptor the application was handed from outside (stdin, opened on the
   host): a name for it inside would reach a host file through the root. Into DIR (a
   volume of the secret's own directory: the same filesystem) and /rw (the overlay). */
static int a_link_held(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/held_follow", dir);
    rep("vol_follow", linkat(AT_FDCWD, "/proc/self/fd/0", AT_FDCWD, path, AT_SYMLINK_FOLLOW));
    snprintf(path, sizeof path, "%s/held_empty", dir);
    rep("vol_empty", linkat(0, "", AT_FDCWD, path, AT_EMPTY_PATH));
    rep("rw_follow", linkat(AT_FDCWD, "/proc/self/fd/0", AT_FDCWD, "/rw/held_follow",
                            AT_SYMLINK_FOLLOW));
    rep("rw_empty", linkat(0, "", AT_FDCWD, "/rw/held_empty", AT_EMPTY_PATH));
    try_open("reopen_vol", AT_FDCWD, "/rw/held_follow", O_RDONLY);
    return 0;
}

/* A deleted file the application was handed read-only from outside (stdin): its
   /proc/self/fd link reads "... (deleted)". Reopened by object, as Linux reopens such
   links, it could be written; the sandbox reopens by object only files of its own
   view. Then a deleted file of the view's own, which it does reopen. */
static int a_reopen_deleted(void) {
    int fd = open("/proc/self/fd/0", O_WRONLY);
    rep("reopen_held_rw", fd);
    if (fd >= 0) { rep("write_held", write(fd, "pwned", 5)); close(fd); }
    try_open("reopen_held_ro", AT_FDCWD, "/proc/self/fd/0", O_RDONLY);
    int own = open("/rw/own", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (own < 0 || write(own, "mine", 4) != 4 || unlink("/rw/own") != 0) return 1;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", own);
    try_open("reopen_own", AT_FDCWD, path, O_RDWR);
    return 0;
}

/* The same reopen, raced: a /proc open is answered by CONTINUE, and the kernel then
   reads the path again; a second thread rewrites it to /proc/self/fd/0 in between. */
static char reopen_path[32] = "/proc/self/status";
static volatile int reopen_stop;
static void *reopen_flip(void *unused) {
    (void)unused;
    while (!reopen_stop) {
        memcpy(reopen_path, "/proc/self/fd/0\0\0", 18);
        __asm__ volatile("" ::: "memory");
        memcpy(reopen_path, "/proc/self/status", 18);
        __asm__ volatile("" ::: "memory");
    }
    return NULL;
}

static int a_reopen_race(long tries) {
    struct stat held, st;
    if (fstat(0, &held) != 0) return 1;
    pthread_t t;
    pthread_create(&t, NULL, reopen_flip, NULL);
    long opened = 0, refused = 0, won = 0;
    for (long i = 0; i < tries && !won; i++) {
        int fd = open(reopen_path, O_WRONLY | O_APPEND);
        if (fd < 0) { refused += errno == EACCES; continue; }
        opened++;
        if (fstat(fd, &st) == 0 && st.st_ino == held.st_ino && st.st_dev == held.st_dev) {
            won = 1;
            rep("race_write", write(fd, "pwned\n", 6));
        }
        close(fd);
    }
    reopen_stop = 1;
    pthread_join(t, NULL);
    printf("race won=%ld opened=%ld refused=%ld\n", won, opened, refused);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "bigargs-child")) { printf("child ran argc=%d\n", argc); return 0; }
    if (argc < 2) { fprintf(stderr, "usage: attack NAME [ARGS]\n"); return 2; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *a = argv[1];
    secret = argc > 2 ? argv[2] : "/nonexistent";
    secret_rel = secret + 1;
    if (!strcmp(a, "dotdot")) return a_dotdot();
    if (!strcmp(a, "symlink")) return a_symlink();
    if (!strcmp(a, "magiclinks")) return a_magiclinks();
    if (!strcmp(a, "rename_race")) return a_rename_race(atoi(argv[3]));
    if (!strcmp(a, "swap")) return a_swap(argv[3], argv[4], atol(argv[5]), atoi(argv[6]));
    if (!strcmp(a, "longpath")) return a_longpath();
    if (!strcmp(a, "nonutf8")) return a_nonutf8();
    if (!strcmp(a, "unmapped")) return a_unmapped();
    if (!strcmp(a, "handle")) return a_handle();
    if (!strcmp(a, "sentry_proc")) return a_sentry_proc();
    if (!strcmp(a, "scm_rights")) return a_scm_rights();
    if (!strcmp(a, "ptrace")) return a_ptrace();
    if (!strcmp(a, "process_vm")) return a_process_vm();
    if (!strcmp(a, "kill")) return a_kill();
    if (!strcmp(a, "prctl")) return a_prctl();
    if (!strcmp(a, "personality")) return a_personality();
    if (!strcmp(a, "io_uring")) return a_io_uring();
    if (!strcmp(a, "bpf")) return a_bpf();
    if (!strcmp(a, "userfaultfd")) return a_userfaultfd();
    if (!strcmp(a, "perf")) return a_perf();
    if (!strcmp(a, "keyctl")) return a_keyctl();
    if (!strcmp(a, "add_key")) return a_add_key();
    if (!strcmp(a, "mount")) return a_mount();
    if (!strcmp(a, "unshare")) return a_unshare();
    if (!strcmp(a, "clone_ns")) return a_clone_ns();
    if (!strcmp(a, "raw_socket")) return a_raw_socket(argv[3]);
    if (!strcmp(a, "packet")) return a_packet(argv[3]);
    if (!strcmp(a, "netlink")) return a_netlink();
    if (!strcmp(a, "i386")) return a_i386();
    if (!strcmp(a, "x32")) return a_x32();
    if (!strcmp(a, "vsyscall")) return a_vsyscall();
    if (!strcmp(a, "toctou")) return a_toctou(argv[3], atoi(argv[4]));
    if (!strcmp(a, "forkbomb")) return a_forkbomb();
    if (!strcmp(a, "flood")) return a_flood();
    if (!strcmp(a, "fds")) return a_fds();
    if (!strcmp(a, "bigargs")) return a_bigargs(argv[3]);
    if (!strcmp(a, "sysctl")) return a_sysctl();
    if (!strcmp(a, "mknod")) return a_mknod();
    if (!strcmp(a, "tiocsti")) return a_tiocsti();
    if (!strcmp(a, "init_mem")) return a_init_mem();
    if (!strcmp(a, "protnone")) return a_protnone();
    if (!strcmp(a, "init_fds")) return a_init_fds();
    if (!strcmp(a, "link_held")) return a_link_held(argv[3]);
    if (!strcmp(a, "reopen_deleted")) return a_reopen_deleted();
    if (!strcmp(a, "reopen_race")) return a_reopen_race(atol(argv[3]));
    fprintf(stderr, "unknown attack %s\n", a);
    return 2;
}
