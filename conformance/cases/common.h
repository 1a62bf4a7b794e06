/* Shared scaffolding for conformance cases.
 *
 * A family file holds many cases; each is registered with CASE(name, "syscalls...") and
 * selected by argv[1].  `BINARY --list` prints "test_NAME<TAB>syscalls" for every case.
 * `BINARY test_NAME DIR` runs one case with DIR as its private scratch directory (it
 * chdirs there first, so cases use relative paths and transcripts never contain it).
 *
 * Transcripts must be deterministic: print errno NAMES (never strerror text, which
 * depends on the locale), and never print pids, inode numbers, addresses or times
 * unless the family file declares a normalisation for them:
 *     // normalise: REGEX => REPLACEMENT              (every case of the file)
 *     // normalise[test_NAME]: REGEX => REPLACEMENT   (one case)
 * Exit status 77 after SKIP("why") means the host lacks something the case needs.
 */
#ifndef CONFORMANCE_COMMON_H
#define CONFORMANCE_COMMON_H
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const errno_names[] = {
    [0] = "OK",
    [1] = "EPERM",
    [2] = "ENOENT",
    [3] = "ESRCH",
    [4] = "EINTR",
    [5] = "EIO",
    [6] = "ENXIO",
    [7] = "E2BIG",
    [8] = "ENOEXEC",
    [9] = "EBADF",
    [10] = "ECHILD",
    [11] = "EAGAIN",
    [12] = "ENOMEM",
    [13] = "EACCES",
    [14] = "EFAULT",
    [15] = "ENOTBLK",
    [16] = "EBUSY",
    [17] = "EEXIST",
    [18] = "EXDEV",
    [19] = "ENODEV",
    [20] = "ENOTDIR",
    [21] = "EISDIR",
    [22] = "EINVAL",
    [23] = "ENFILE",
    [24] = "EMFILE",
    [25] = "ENOTTY",
    [26] = "ETXTBSY",
    [27] = "EFBIG",
    [28] = "ENOSPC",
    [29] = "ESPIPE",
    [30] = "EROFS",
    [31] = "EMLINK",
    [32] = "EPIPE",
    [33] = "EDOM",
    [34] = "ERANGE",
    [35] = "EDEADLK",
    [36] = "ENAMETOOLONG",
    [37] = "ENOLCK",
    [38] = "ENOSYS",
    [39] = "ENOTEMPTY",
    [40] = "ELOOP",
    [42] = "ENOMSG",
    [43] = "EIDRM",
    [44] = "ECHRNG",
    [45] = "EL2NSYNC",
    [46] = "EL3HLT",
    [47] = "EL3RST",
    [48] = "ELNRNG",
    [49] = "EUNATCH",
    [50] = "ENOCSI",
    [51] = "EL2HLT",
    [52] = "EBADE",
    [53] = "EBADR",
    [54] = "EXFULL",
    [55] = "ENOANO",
    [56] = "EBADRQC",
    [57] = "EBADSLT",
    [59] = "EBFONT",
    [60] = "ENOSTR",
    [61] = "ENODATA",
    [62] = "ETIME",
    [63] = "ENOSR",
    [64] = "ENONET",
    [65] = "ENOPKG",
    [66] = "EREMOTE",
    [67] = "ENOLINK",
    [68] = "EADV",
    [69] = "ESRMNT",
    [70] = "ECOMM",
    [71] = "EPROTO",
    [72] = "EMULTIHOP",
    [73] = "EDOTDOT",
    [74] = "EBADMSG",
    [75] = "EOVERFLOW",
    [76] = "ENOTUNIQ",
    [77] = "EBADFD",
    [78] = "EREMCHG",
    [79] = "ELIBACC",
    [80] = "ELIBBAD",
    [81] = "ELIBSCN",
    [82] = "ELIBMAX",
    [83] = "ELIBEXEC",
    [84] = "EILSEQ",
    [85] = "ERESTART",
    [86] = "ESTRPIPE",
    [87] = "EUSERS",
    [88] = "ENOTSOCK",
    [89] = "EDESTADDRREQ",
    [90] = "EMSGSIZE",
    [91] = "EPROTOTYPE",
    [92] = "ENOPROTOOPT",
    [93] = "EPROTONOSUPPORT",
    [94] = "ESOCKTNOSUPPORT",
    [95] = "EOPNOTSUPP",
    [96] = "EPFNOSUPPORT",
    [97] = "EAFNOSUPPORT",
    [98] = "EADDRINUSE",
    [99] = "EADDRNOTAVAIL",
    [100] = "ENETDOWN",
    [101] = "ENETUNREACH",
    [102] = "ENETRESET",
    [103] = "ECONNABORTED",
    [104] = "ECONNRESET",
    [105] = "ENOBUFS",
    [106] = "EISCONN",
    [107] = "ENOTCONN",
    [108] = "ESHUTDOWN",
    [109] = "ETOOMANYREFS",
    [110] = "ETIMEDOUT",
    [111] = "ECONNREFUSED",
    [112] = "EHOSTDOWN",
    [113] = "EHOSTUNREACH",
    [114] = "EALREADY",
    [115] = "EINPROGRESS",
    [116] = "ESTALE",
    [117] = "EUCLEAN",
    [118] = "ENOTNAM",
    [119] = "ENAVAIL",
    [120] = "EISNAM",
    [121] = "EREMOTEIO",
    [122] = "EDQUOT",
    [123] = "ENOMEDIUM",
    [124] = "EMEDIUMTYPE",
    [125] = "ECANCELED",
    [126] = "ENOKEY",
    [127] = "EKEYEXPIRED",
    [128] = "EKEYREVOKED",
    [129] = "EKEYREJECTED",
    [130] = "EOWNERDEAD",
    [131] = "ENOTRECOVERABLE",
    [132] = "ERFKILL",
    [133] = "EHWPOISON",
};

static const char *errname(int e)
{
    static char buf[32];
    if (e >= 0 && e < (int)(sizeof errno_names / sizeof *errno_names) && errno_names[e])
        return errno_names[e];
    snprintf(buf, sizeof buf, "E#%d", e);
    return buf;
}

static const char *signame(int s)
{
    static char buf[16];
    const char *n = s > 0 && s < SIGRTMIN ? sigabbrev_np(s) : NULL;
    if (n) {
        snprintf(buf, sizeof buf, "SIG%s", n);
        return buf;
    }
    snprintf(buf, sizeof buf, "SIG#%d", s);
    return buf;
}

/* Unbuffered, so output from forked children interleaves in program order. */
static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

/* Print "EXPR = VALUE" or "EXPR = -1 ENAME" and yield the value. */
static long show_ret(const char *what, long r, int e)
{
    if (r == -1)
        out("%s = -1 %s\n", what, errname(e));
    else
        out("%s = %ld\n", what, r);
    return r;
}

/* Like show_ret, but only success or the errno: for values that legitimately vary. */
static long show_ok(const char *what, long r, int e)
{
    if (r == -1)
        out("%s = -1 %s\n", what, errname(e));
    else
        out("%s = ok\n", what);
    return r;
}

#define R(expr) ({ errno = 0; long r_ = (long)(expr); show_ret(#expr, r_, errno); })
#define OK(expr) ({ errno = 0; long r_ = (long)(expr); show_ok(#expr, r_, errno); })
/* Pointer results (mmap, shmat): print ok or the errno, yield the pointer. */
#define RP(expr) ({ errno = 0; void *p_ = (void *)(expr); \
    show_ok(#expr, p_ == MAP_FAILED || p_ == NULL ? -1 : 0, errno); p_; })
/* Quiet setup step: a failure here is a broken case, not a result. */
#define MUST(expr) ({ long m_ = (long)(expr); if (m_ == -1) { \
    out("SETUP FAILED: %s: %s\n", #expr, errname(errno)); exit(3); } m_; })
#define SKIP(...) do { out("SKIP: " __VA_ARGS__); out("\n"); exit(77); } while (0)
#define SC(...) syscall(__VA_ARGS__)

/* Syscalls newer than Debian 12's headers. */
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef SYS_cachestat
#define SYS_cachestat 451
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SYS_futex_wake
#define SYS_futex_wake 454
#define SYS_futex_wait 455
#endif
#ifndef SYS_mseal
#define SYS_mseal 462
#endif

static void put(const char *path, const char *content)
{
    int fd = MUST(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    if (content && *content)
        MUST(write(fd, content, strlen(content)));
    close(fd);
}

static const char *ftype(mode_t m)
{
    switch (m & S_IFMT) {
    case S_IFREG: return "reg";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "lnk";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "sock";
    case S_IFCHR: return "chr";
    case S_IFBLK: return "blk";
    }
    return "?";
}

/* The portable part of a stat: no inode, device or times. */
static void show_stat_buf(const char *label, const struct stat *st)
{
    out("  %s: type=%s mode=%04o nlink=%lu size=%lld\n", label, ftype(st->st_mode),
        (unsigned)(st->st_mode & 07777), (unsigned long)st->st_nlink, (long long)st->st_size);
}

static void show_lstat(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == -1)
        out("  %s: %s\n", path, errname(errno));
    else
        show_stat_buf(path, &st);
}

static void show_file(const char *path)
{
    char buf[256];
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        out("  content(%s): %s\n", path, errname(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = 0;
    out("  content(%s) = \"%s\"\n", path, buf);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted directory listing (readdir order is filesystem-specific). */
static void show_dir(const char *path)
{
    char *names[256];
    int n = 0;
    DIR *d = opendir(path);
    if (!d) {
        out("  ls(%s): %s\n", path, errname(errno));
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) && n < 256)
        names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp);
    out("  ls(%s):", path);
    for (int i = 0; i < n; i++) {
        out(" %s", names[i]);
        free(names[i]);
    }
    out("\n");
}

static void show_status(const char *what, int status)
{
    if (WIFEXITED(status))
        out("%s: exited %d\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        out("%s: killed by %s\n", what, signame(WTERMSIG(status)));
    else if (WIFSTOPPED(status))
        out("%s: stopped by %s\n", what, signame(WSTOPSIG(status)));
    else
        out("%s: status %#x\n", what, status);
}

/* Wait for one child and print how it ended. */
static void reap(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) == -1)
        out("waitpid: %s\n", errname(errno));
    else
        show_status("child", status);
}

typedef struct {
    const char *name;
    const char *syscalls;
    void (*fn)(void);
} conf_case;

static conf_case conf_cases[512] __attribute__((unused));
static int conf_ncases __attribute__((unused));

#define CASE(nm, sys) \
    static void test_##nm(void); \
    __attribute__((constructor)) static void reg_##nm(void) \
    { conf_cases[conf_ncases++] = (conf_case){"test_" #nm, sys, test_##nm}; } \
    static void test_##nm(void)

#ifndef CONFORMANCE_NO_MAIN
int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < conf_ncases; i++)
            printf("%s\t%s\n", conf_cases[i].name, conf_cases[i].syscalls);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: %s --list | %s CASE DIR\n", argv[0], argv[0]);
        return 2;
    }
    for (int i = 0; i < conf_ncases; i++) {
        if (strcmp(conf_cases[i].name, argv[1]) == 0) {
            MUST(chdir(argv[2]));
            umask(022);
            conf_cases[i].fn();
            return 0;
        }
    }
    fprintf(stderr, "no case %s\n", argv[1]);
    return 2;
}
#endif
#endif

