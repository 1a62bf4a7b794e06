/* identity family: uids/gids, groups, capabilities, uname, rlimits, sysinfo, getrandom. */
#include "common.h"
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <grp.h>

// The hostname and kernel release legitimately differ inside a sandbox.
// normalise[test_uname_fields]: nodename=\S* => nodename=HOST
// normalise[test_uname_fields]: release=\S* => release=REL

/* Id changes are one-way for the process: do them in a child. */
#define IN_CHILD(...) do { pid_t p_ = fork(); if (p_ == 0) { __VA_ARGS__; _exit(0); } reap(p_); } while (0)

CASE(getuid_family_root, "getuid geteuid getgid getegid")
{
    R(getuid());
    R(geteuid());
    R(getgid());
    R(getegid());
}

CASE(getresuid_getresgid, "getresuid getresgid")
{
    uid_t r, e, s;
    gid_t gr, ge, gs;
    R(getresuid(&r, &e, &s));
    out("  %u %u %u\n", r, e, s);
    R(getresgid(&gr, &ge, &gs));
    out("  %u %u %u\n", gr, ge, gs);
}

CASE(setuid_drops_privilege, "setuid")
{
    IN_CHILD({
        R(setuid(1000));
        R(getuid());
        R(geteuid());
        R(setuid(0));
        put("owned", "");
        show_lstat("owned");
    });
}

CASE(setgid_then_file_group, "setgid")
{
    IN_CHILD({
        R(setgid(4321));
        R(getegid());
        put("f", "");
        struct stat st;
        stat("f", &st);
        out("  file gid=%u\n", st.st_gid);
    });
}

CASE(setreuid_setregid, "setreuid setregid")
{
    IN_CHILD({
        R(setregid(10, 20));
        R(setreuid(30, 40));
        uid_t r, e, s;
        getresuid(&r, &e, &s);
        out("  uids %u %u %u\n", r, e, s);
        gid_t gr, ge, gs;
        getresgid(&gr, &ge, &gs);
        out("  gids %u %u %u\n", gr, ge, gs);
        R(setreuid(0, 0));
    });
}

CASE(setresuid_setresgid, "setresuid setresgid")
{
    IN_CHILD({
        R(setresgid(5, 6, 7));
        R(setresuid(1, 2, 3));
        uid_t r, e, s;
        getresuid(&r, &e, &s);
        out("  uids %u %u %u\n", r, e, s);
        R(setresuid(3, 3, 3));
        R(setresuid(0, 0, 0));
    });
}

CASE(setfsuid_setfsgid, "setfsuid setfsgid")
{
    IN_CHILD({
        R(setfsuid(77));
        R(setfsuid(-1));
        R(setfsgid(88));
        R(setfsgid(-1));
        put("fs", "");
        struct stat st;
        stat("fs", &st);
        out("  owner %u:%u\n", st.st_uid, st.st_gid);
    });
}

CASE(getgroups_setgroups, "getgroups setgroups")
{
    IN_CHILD({
        gid_t gs[3] = {100, 200, 300}, got[8];
        R(setgroups(3, gs));
        R(getgroups(0, NULL));
        R(getgroups(8, got));
        out("  groups %u %u %u\n", got[0], got[1], got[2]);
        R(getgroups(1, got));
        R(setgroups(0, NULL));
        R(getgroups(0, NULL));
    });
}

CASE(setuid_nonroot_eperm, "setuid setgid")
{
    IN_CHILD({
        setresgid(1000, 1000, 1000);
        setresuid(1000, 1000, 1000);
        R(setuid(0));
        R(setgid(0));
        R(open("/etc/shadow", O_RDONLY));
        R(kill(1, 0));
    });
}

CASE(capget_root_caps, "capget capset")
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    R(SC(SYS_capget, &h, d));
    out("  CAP_CHOWN eff=%d CAP_SYS_ADMIN eff=%d\n", !!(d[0].effective & (1 << CAP_CHOWN)),
        !!(d[0].effective & (1 << CAP_SYS_ADMIN)));
    IN_CHILD({
        d[0].effective &= ~(1u << CAP_CHOWN);
        R(SC(SYS_capset, &h, d));
        put("f", "");
        R(chown("f", 5, 5));
    });
    struct __user_cap_header_struct bad = {0x1234, 0};
    R(SC(SYS_capget, &bad, d));
}

CASE(uname_fields, "uname")
{
    struct utsname u;
    R(uname(&u));
    out("  sysname=%s machine=%s\n", u.sysname, u.machine);
    out("  nodename=%s release=%s\n", u.nodename, u.release);
    R(uname(NULL));
}

CASE(sethostname_permission, "sethostname")
{
    /* In a child with a dropped uid so no real host change can happen. */
    IN_CHILD({
        setresuid(1000, 1000, 1000);
        R(sethostname("x", 1));
    });
}

CASE(getrlimit_setrlimit_nofile, "getrlimit setrlimit")
{
    struct rlimit rl;
    R(SC(SYS_getrlimit, RLIMIT_NOFILE, &rl));
    struct rlimit lower = {16, rl.rlim_max};
    R(SC(SYS_setrlimit, RLIMIT_NOFILE, &lower));
    int fds = 0, fd;
    while ((fd = open(".", O_RDONLY)) >= 0)
        fds++;
    out("  opened until %s, fd<16: %d\n", errname(errno), fds < 16);
    struct rlimit bad = {10, 5};
    R(SC(SYS_setrlimit, RLIMIT_NOFILE, &bad));
    R(SC(SYS_getrlimit, 999, &rl));
}

CASE(prlimit64_self, "prlimit64")
{
    struct rlimit old, nl = {1 << 20, 1 << 20};
    R(prlimit(0, RLIMIT_FSIZE, &nl, &old));
    struct rlimit cur;
    R(prlimit(0, RLIMIT_FSIZE, NULL, &cur));
    out("  fsize=%lu\n", (unsigned long)cur.rlim_cur);
    R(prlimit(999999, RLIMIT_FSIZE, NULL, &cur));
}

CASE(setrlimit_fsize_sigxfsz, "setrlimit write")
{
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {10, 10};
    R(SC(SYS_setrlimit, RLIMIT_FSIZE, &rl));
    int fd = MUST(open("f", O_CREAT | O_WRONLY, 0644));
    R(write(fd, "0123456789abc", 13));
    R(write(fd, "x", 1));
}

CASE(sysinfo_sane, "sysinfo")
{
    struct sysinfo si;
    R(sysinfo(&si));
    out("  totalram>0=%d procs>0=%d uptime>=0=%d\n", si.totalram > 0, si.procs > 0, si.uptime >= 0);
}

CASE(getrandom_lengths, "getrandom")
{
    char buf[64];
    R(getrandom(buf, sizeof buf, 0));
    R(getrandom(buf, 16, GRND_NONBLOCK));
    R(getrandom(buf, 0, 0));
    R(getrandom(buf, 8, 0x1000));
}

CASE(umask_applies_to_mknod, "umask mknodat")
{
    R(umask(0077));
    R(mknod("p", S_IFIFO | 0666, 0));
    show_lstat("p");
}
