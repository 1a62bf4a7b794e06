/* process family: fork/vfork/clone/exec/wait, ids, sessions, scheduling, prctl. */
#include "common.h"
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <asm/prctl.h>

/* Raw fork(2): glibc's fork() is clone(2). */
CASE(fork_exit_status, "fork wait4")
{
    pid_t pid = SC(SYS_fork);
    if (pid == 0)
        _exit(42);
    out("fork returned child>0: %d\n", pid > 0);
    int st;
    R(SC(SYS_wait4, pid, &st, 0, NULL) == pid);
    show_status("child", st);
    R(SC(SYS_wait4, -1, &st, 0, NULL));
}

CASE(fork_child_sees_parent, "fork getppid")
{
    pid_t parent = getpid();
    pid_t pid = SC(SYS_fork);
    if (pid == 0) {
        out("child: getppid()==parent %d, getpid()!=parent %d\n", getppid() == parent,
            getpid() != parent);
        _exit(0);
    }
    reap(pid);
}

CASE(fork_killed_by_signal, "fork wait4")
{
    pid_t pid = SC(SYS_fork);
    if (pid == 0) {
        raise(SIGKILL);
        _exit(0);
    }
    reap(pid);
    pid = fork();
    if (pid == 0)
        abort();
    reap(pid);
}

CASE(vfork_shares_until_exec, "vfork execve")
{
    pid_t pid = vfork();
    if (pid == 0) {
        char *argv[] = {"echo", "vfork child exec", NULL};
        execve("/bin/echo", argv, environ);
        _exit(127);
    }
    reap(pid);
}

/* The child only exits (printing from it would race with the parent's output). */
static int clone_child(void *arg)
{
    return strcmp((char *)arg, "hello") == 0 ? 5 : 6;
}

CASE(clone_basic, "clone")
{
    static char stack[65536];
    pid_t pid = R(clone(clone_child, stack + sizeof stack, SIGCHLD, "hello") > 0);
    (void)pid;
    int st;
    wait(&st);
    show_status("clone child", st);
}

CASE(clone_newns_denied_semantics, "clone")
{
    /* Creating namespaces: root may natively; compare only whether it works. */
    static char stack[65536];
    long r = clone(clone_child, stack + sizeof stack, SIGCHLD | CLONE_NEWUTS, "ns");
    out("clone(CLONE_NEWUTS) ok=%d\n", r > 0);
    if (r > 0)
        wait(NULL);
}

CASE(clone3_fork_like, "clone3")
{
    struct clone_args args = {.exit_signal = SIGCHLD};
    long pid = SC(SYS_clone3, &args, sizeof args);
    if (pid == 0)
        _exit(9);
    out("clone3 = %s\n", pid > 0 ? "child" : errname(errno));
    if (pid > 0)
        reap(pid);
}

CASE(execve_replaces_image, "execve")
{
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"sh", "-c", "echo in exec $0 $1; exit 3", "a0", "a1", NULL};
        char *envp[] = {"X=1", NULL};
        execve("/bin/sh", argv, envp);
        _exit(127);
    }
    reap(pid);
}

CASE(execve_errors, "execve")
{
    char *argv[] = {"x", NULL};
    put("notexec", "#!/bin/sh\necho hi\n");
    chmod("notexec", 0644);
    R(execve("missing", argv, environ));
    R(execve("notexec", argv, environ));
    R(execve(".", argv, environ));
    put("garbage", "\x7f" "ELFgarbage");
    chmod("garbage", 0755);
    R(execve("garbage", argv, environ));
}

CASE(execve_shebang_script, "execve")
{
    put("script", "#!/bin/sh\necho script ran with $1\n");
    chmod("script", 0755);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"script", "arg1", NULL};
        execve("./script", argv, environ);
        _exit(127);
    }
    reap(pid);
}

CASE(execveat_empty_path, "execveat")
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/bin/echo", O_RDONLY);
        char *argv[] = {"echo", "execveat via fd", NULL};
        SC(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
        out("execveat failed: %s\n", errname(errno));
        _exit(127);
    }
    reap(pid);
}

CASE(exit_group_status, "exit_group exit")
{
    pid_t pid = fork();
    if (pid == 0)
        SC(SYS_exit_group, 300);
    reap(pid);
    pid = fork();
    if (pid == 0)
        SC(SYS_exit, 7);
    reap(pid);
}

CASE(wait4_wnohang, "wait4")
{
    int p[2];
    MUST(pipe(p));
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        read(p[0], &c, 1);
        _exit(0);
    }
    int st;
    R(SC(SYS_wait4, pid, &st, WNOHANG, NULL));
    write(p[1], "x", 1);
    R(SC(SYS_wait4, pid, &st, 0, NULL) == pid);
    R(SC(SYS_wait4, pid, &st, 0, NULL));
    R(SC(SYS_wait4, pid, &st, 0x40000000, NULL));
}

CASE(wait4_rusage, "wait4 getrusage")
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    struct rusage ru;
    int st;
    R(SC(SYS_wait4, pid, &st, 0, &ru) == pid);
    R(getrusage(RUSAGE_SELF, &ru));
    R(getrusage(RUSAGE_CHILDREN, &ru));
    R(getrusage(12345, &ru));
}

CASE(waitid_exited, "waitid")
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(17);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    R(waitid(P_PID, pid, &si, WEXITED));
    out("  si_code=%s si_status=%d pid_match=%d\n",
        si.si_code == CLD_EXITED ? "CLD_EXITED" : "?", si.si_status, si.si_pid == pid);
    R(waitid(P_ALL, 0, &si, WEXITED | WNOHANG));
    R(waitid(P_ALL, 0, &si, 0));
}

CASE(waitid_nowait_keeps_zombie, "waitid")
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(3);
    siginfo_t si;
    R(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
    R(waitid(P_PID, pid, &si, WEXITED));
    out("  status=%d\n", si.si_status);
}

CASE(getpid_gettid_main_thread, "getpid gettid")
{
    out("getpid()==gettid(): %d\n", getpid() == (pid_t)SC(SYS_gettid));
    out("getpid()>0: %d\n", getpid() > 0);
}

CASE(getppid_after_reparent, "getppid clone")
{
    int p[2];
    MUST(pipe(p));
    pid_t pid = fork();
    if (pid == 0) {
        pid_t mid = getpid();
        if (fork() == 0) {
            while (getppid() == mid)
                usleep(1000);
            char ok = getppid() != mid ? '1' : '0';
            write(p[1], &ok, 1);
            _exit(0);
        }
        _exit(0);
    }
    reap(pid);
    char c = '?';
    read(p[0], &c, 1);
    out("grandchild reparented: %c\n", c);
}

CASE(set_tid_address_returns_tid, "set_tid_address")
{
    static int word;
    out("set_tid_address()==gettid(): %d\n", SC(SYS_set_tid_address, &word) == SC(SYS_gettid));
}

CASE(setpgid_getpgid, "setpgid getpgid getpgrp")
{
    pid_t pid = fork();
    if (pid == 0) {
        R(setpgid(0, 0));
        out("  getpgid(0)==getpid(): %d getpgrp()==getpid(): %d\n", getpgid(0) == getpid(),
            getpgrp() == getpid());
        R(getpgid(999999));
        R(setpgid(0, 999999));
        _exit(0);
    }
    reap(pid);
}

CASE(setsid_getsid, "setsid getsid")
{
    pid_t pid = fork();
    if (pid == 0) {
        out("setsid()==getpid(): %d\n", setsid() == getpid());
        out("getsid(0)==getpid(): %d\n", getsid(0) == getpid());
        R(setsid());
        R(getsid(999999));
        _exit(0);
    }
    reap(pid);
}

CASE(prctl_name_and_pdeathsig, "prctl")
{
    char name[17] = {0};
    R(prctl(PR_SET_NAME, "conf-name"));
    R(prctl(PR_GET_NAME, name));
    out("  name=%s\n", name);
    int sig = -1;
    R(prctl(PR_SET_PDEATHSIG, SIGTERM));
    R(prctl(PR_GET_PDEATHSIG, &sig));
    out("  pdeathsig=%s\n", signame(sig));
    R(prctl(9999));
}

CASE(prctl_no_new_privs_dumpable, "prctl")
{
    R(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    R(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    R(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    R(prctl(PR_SET_DUMPABLE, 0));
    R(prctl(PR_GET_DUMPABLE));
    R(prctl(PR_SET_DUMPABLE, 5));
}

CASE(arch_prctl_fs, "arch_prctl")
{
    unsigned long fs = 0;
    R(SC(SYS_arch_prctl, ARCH_GET_FS, &fs));
    out("  fs!=0: %d\n", fs != 0);
    R(SC(SYS_arch_prctl, 0x9999, &fs));
}

CASE(sched_yield_ok, "sched_yield")
{
    R(sched_yield());
}

CASE(sched_getaffinity_roundtrip, "sched_getaffinity sched_setaffinity")
{
    cpu_set_t set;
    CPU_ZERO(&set);
    R(sched_getaffinity(0, sizeof set, &set) == 0);
    out("  count>0: %d\n", CPU_COUNT(&set) > 0);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    R(sched_setaffinity(0, sizeof one, &one));
    CPU_ZERO(&one);
    sched_getaffinity(0, sizeof one, &one);
    out("  now count=%d cpu0=%d\n", CPU_COUNT(&one), CPU_ISSET(0, &one));
    cpu_set_t none;
    CPU_ZERO(&none);
    R(sched_setaffinity(0, sizeof none, &none));
    R(SC(SYS_sched_getaffinity, 0, 1, &set));
}

CASE(getpriority_setpriority, "getpriority setpriority")
{
    errno = 0;
    int p = getpriority(PRIO_PROCESS, 0);
    out("getpriority(PRIO_PROCESS, 0) = %d %s\n", p, errname(errno));
    R(setpriority(PRIO_PROCESS, 0, 5));
    out("getpriority after = %d\n", getpriority(PRIO_PROCESS, 0));
    R(setpriority(42, 0, 5));
}

CASE(sched_getscheduler_params, "sched_getscheduler sched_getparam sched_setscheduler sched_setparam")
{
    struct sched_param sp = {0};
    R(sched_getscheduler(0));
    R(sched_getparam(0, &sp));
    out("  prio=%d\n", sp.sched_priority);
    R(sched_setscheduler(0, SCHED_BATCH, &sp));
    R(sched_getscheduler(0));
    R(sched_setparam(0, &sp));
    sp.sched_priority = 50;
    R(sched_setscheduler(0, SCHED_OTHER, &sp));
    R(sched_getscheduler(-1));
}

CASE(sched_get_priority_max_range, "sched_get_priority_max sched_get_priority_min sched_rr_get_interval")
{
    R(sched_get_priority_max(SCHED_FIFO));
    R(sched_get_priority_min(SCHED_FIFO));
    R(sched_get_priority_max(SCHED_OTHER));
    R(sched_get_priority_max(99));
    struct timespec ts;
    R(sched_rr_get_interval(0, &ts));
}

CASE(sched_getattr_policy, "sched_getattr sched_setattr")
{
    struct { uint32_t size, policy; uint64_t flags; int32_t nice; uint32_t prio;
             uint64_t rt, dl, per; uint32_t umin, umax; } attr = {0};
    R(SC(SYS_sched_getattr, 0, &attr, sizeof attr, 0));
    out("  policy=%u nice=%d\n", attr.policy, attr.nice);
    attr.size = sizeof attr;
    attr.nice = 3;
    R(SC(SYS_sched_setattr, 0, &attr, 0));
    R(SC(SYS_sched_getattr, 0, &attr, sizeof attr, 0));
    out("  nice=%d\n", attr.nice);
}

CASE(getcpu_valid, "getcpu")
{
    unsigned cpu = 999, node = 999;
    R(SC(SYS_getcpu, &cpu, &node, NULL));
    out("  cpu<nproc: %d node=%u\n", cpu < (unsigned)sysconf(_SC_NPROCESSORS_CONF), node);
}

CASE(set_robust_list_roundtrip, "set_robust_list get_robust_list")
{
    static struct { void *next; long off; void *pending; } head = {&head, 0, NULL};
    R(SC(SYS_set_robust_list, &head, sizeof head));
    void *got;
    size_t len;
    R(SC(SYS_get_robust_list, 0, &got, &len));
    out("  same=%d len=%zu\n", got == &head, len);
    R(SC(SYS_set_robust_list, &head, 7));
}

CASE(pidfd_open_send_signal, "pidfd_open pidfd_send_signal")
{
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    int pfd = R(SC(SYS_pidfd_open, pid, 0) >= 0 ? 3 : -1);
    pfd = SC(SYS_pidfd_open, pid, 0);
    R(SC(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0));
    reap(pid);
    R(SC(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0));
    R(SC(SYS_pidfd_open, 999999, 0));
}

CASE(times_ticks, "times")
{
    struct tms t;
    out("times() != -1: %d\n", times(&t) != (clock_t)-1);
}

CASE(ioprio_get_set, "ioprio_get ioprio_set")
{
    long prio = SC(SYS_ioprio_get, 1 /* WHO_PROCESS */, 0);
    out("ioprio_get ok=%d\n", prio >= 0);
    R(SC(SYS_ioprio_set, 1, 0, (2 << 13) | 4));
    R(SC(SYS_ioprio_get, 1, 0));
    R(SC(SYS_ioprio_get, 99, 0));
}

CASE(personality_query, "personality")
{
    R(SC(SYS_personality, 0xffffffff));
}
