/* /proc and /dev family: what programs commonly read there. */
#include "common.h"
#include <sys/sysmacros.h>

// normalise[test_readlink_proc_self_exe]: -[0-9a-f]{16}$ => -HASH
// normalise[test_openat_proc_self_stat]: stat pid=\d+ => stat pid=N

static void read_text(const char *path, char *buf, size_t len)
{
    buf[0] = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        out("  open(%s): %s\n", path, errname(errno));
        return;
    }
    ssize_t n, total = 0;
    while (total < (ssize_t)len - 1 && (n = read(fd, buf + total, len - 1 - total)) > 0)
        total += n;
    buf[total] = 0;
    close(fd);
}

static const char *field(const char *text, const char *key)
{
    static char val[128];
    const char *p = strstr(text, key);
    if (!p)
        return "(missing)";
    p += strlen(key);
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, "\n");
    snprintf(val, sizeof val, "%.*s", (int)n, p);
    return val;
}

CASE(readlink_proc_self_exe, "readlink")
{
    char buf[PATH_MAX] = {0};
    R(readlink("/proc/self/exe", buf, sizeof buf) > 0);
    const char *base = strrchr(buf, '/');
    out("  exe basename=%s\n", base ? base + 1 : buf);
}

CASE(readlink_proc_self_fd, "readlink")
{
    put("target", "");
    int fd = MUST(open("target", O_RDONLY));
    char link[64], buf[PATH_MAX] = {0};
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    R(readlink(link, buf, sizeof buf) > 0);
    out("  points to %s\n", buf);
    int p[2];
    MUST(pipe(p));
    snprintf(link, sizeof link, "/proc/self/fd/%d", p[0]);
    memset(buf, 0, sizeof buf);
    readlink(link, buf, sizeof buf);
    out("  pipe link starts pipe:[ %d\n", strncmp(buf, "pipe:[", 6) == 0);
}

CASE(readlink_proc_self_cwd, "readlink chdir")
{
    char buf[PATH_MAX] = {0};
    mkdir("sub", 0755);
    chdir("sub");
    R(readlink("/proc/self/cwd", buf, sizeof buf) > 0);
    out("  cwd=%s\n", buf);
}

CASE(getdents64_proc_self_fd, "getdents64 openat")
{
    int a = MUST(open(".", O_RDONLY)), b = MUST(dup(a));
    (void)b;
    show_dir("/proc/self/fd");
}

CASE(openat_proc_self_status, "openat read")
{
    static char buf[8192];
    read_text("/proc/self/status", buf, sizeof buf);
    out("  Name=%s\n", field(buf, "Name:"));
    out("  Uid=%s\n", field(buf, "Uid:"));
    out("  Threads=%s\n", field(buf, "Threads:"));
    out("  has Pid line=%d\n", strstr(buf, "\nPid:") != NULL);
}

CASE(openat_proc_self_cmdline, "openat read")
{
    char buf[512];
    int fd = MUST(open("/proc/self/cmdline", O_RDONLY));
    ssize_t n = R(read(fd, buf, sizeof buf) > 0);
    n = pread(fd, buf, sizeof buf, 0);
    int args = 0;
    for (ssize_t i = 0; i < n; i++)
        args += buf[i] == 0;
    const char *last = buf;
    for (ssize_t i = n - 2; i >= 0; i--)
        if (buf[i] == 0) {
            last = buf + i + 1;
            break;
        }
    (void)last;
    out("  argc=%d\n", args);
}

CASE(openat_proc_self_stat, "openat getpid")
{
    char buf[1024];
    read_text("/proc/self/stat", buf, sizeof buf);
    int pid = 0;
    char comm[64] = {0}, state = 0;
    sscanf(buf, "%d (%63[^)]) %c", &pid, comm, &state);
    out("  pid==getpid=%d comm=%s state=%c\n", pid == getpid(), comm, state);
    out("  stat pid=%d\n", pid);
}

CASE(openat_proc_self_maps, "openat mmap")
{
    static char buf[65536];
    mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    read_text("/proc/self/maps", buf, sizeof buf);
    out("  has [stack]=%d has [heap] or exe=%d\n", strstr(buf, "[stack]") != NULL,
        strstr(buf, "r-xp") != NULL);
}

CASE(openat_proc_sys_kernel, "openat read")
{
    char buf[256];
    read_text("/proc/sys/kernel/ostype", buf, sizeof buf);
    out("  ostype=%s", buf);
    read_text("/proc/sys/kernel/pid_max", buf, sizeof buf);
    out("  pid_max>0=%d\n", atoi(buf) > 0);
    R(open("/proc/sys/kernel/hostname", O_WRONLY) >= 0);
}

CASE(openat_proc_meminfo_cpuinfo, "openat read")
{
    static char buf[16384];
    read_text("/proc/meminfo", buf, sizeof buf);
    out("  MemTotal present=%d\n", strstr(buf, "MemTotal:") != NULL);
    read_text("/proc/cpuinfo", buf, sizeof buf);
    out("  processor present=%d\n", strstr(buf, "processor") != NULL);
    read_text("/proc/uptime", buf, sizeof buf);
    out("  uptime parses=%d\n", atof(buf) > 0);
}

CASE(openat_proc_missing_pid, "openat")
{
    R(open("/proc/999999/status", O_RDONLY));
    R(open("/proc/self/nonexistent", O_RDONLY));
}

CASE(read_dev_null, "read write")
{
    int fd = R(open("/dev/null", O_RDWR) >= 0);
    fd = open("/dev/null", O_RDWR);
    char buf[8];
    R(read(fd, buf, sizeof buf));
    R(write(fd, "gone", 4));
    struct stat st;
    fstat(fd, &st);
    out("  type=%s major=%u minor=%u\n", ftype(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
}

CASE(read_dev_zero, "read")
{
    int fd = open("/dev/zero", O_RDONLY);
    char buf[16];
    memset(buf, 'x', sizeof buf);
    R(read(fd, buf, sizeof buf));
    int zero = 1;
    for (unsigned i = 0; i < sizeof buf; i++)
        zero &= buf[i] == 0;
    out("  all zero=%d\n", zero);
    char *p = RP(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0));
    out("  mapped zero=%d\n", p != MAP_FAILED && p[100] == 0);
}

CASE(read_dev_urandom_full, "read write")
{
    int fd = open("/dev/urandom", O_RDONLY);
    char buf[32];
    R(read(fd, buf, sizeof buf));
    int full = open("/dev/full", O_WRONLY);
    R(write(full, "x", 1));
    struct stat st;
    R(stat("/dev/urandom", &st));
    out("  urandom %s %u,%u\n", ftype(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
}

CASE(openat_dev_fd_self, "openat")
{
    put("f", "via /dev/fd");
    int fd = MUST(open("f", O_RDONLY));
    char path[32];
    snprintf(path, sizeof path, "/dev/fd/%d", fd);
    int again = R(open(path, O_RDONLY) >= 0);
    (void)again;
    R(access("/dev/stdin", F_OK));
}

CASE(stat_proc_self_is_dir, "stat readlink")
{
    struct stat st;
    R(stat("/proc/self", &st));
    out("  type=%s\n", ftype(st.st_mode));
    char buf[32] = {0};
    readlink("/proc/self", buf, sizeof buf);
    out("  /proc/self -> getpid: %d\n", atoi(buf) == getpid());
}
