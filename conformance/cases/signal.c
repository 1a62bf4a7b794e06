/* signals family: sigaction, masks, kill/tkill/tgkill, queues, waits, alarms, itimers. */
#include "common.h"
#include <sys/time.h>

static volatile sig_atomic_t got_sig, got_code, got_value;

static void handler(int sig) { got_sig = sig; }

static void info_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_sig = sig;
    got_code = si->si_code;
    got_value = si->si_value.sival_int;
}

static void install(int sig, int flags)
{
    struct sigaction sa = {0};
    if (flags & SA_SIGINFO)
        sa.sa_sigaction = info_handler;
    else
        sa.sa_handler = handler;
    sa.sa_flags = flags;
    MUST(sigaction(sig, &sa, NULL));
}

static const char *code_name(int code)
{
    switch (code) {
    case SI_USER: return "SI_USER";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TKILL: return "SI_TKILL";
    case SI_KERNEL: return "SI_KERNEL";
    case SI_TIMER: return "SI_TIMER";
    }
    return "other";
}

CASE(rt_sigaction_install_query, "rt_sigaction")
{
    struct sigaction sa = {0}, old;
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    R(sigaction(SIGUSR1, &sa, NULL));
    R(sigaction(SIGUSR1, NULL, &old));
    out("  handler_same=%d restart=%d\n", old.sa_handler == handler, !!(old.sa_flags & SA_RESTART));
    R(sigaction(SIGKILL, &sa, NULL));
    R(sigaction(SIGSTOP, &sa, NULL));
    R(sigaction(0, &sa, NULL));
    R(sigaction(65, &sa, NULL));
}

CASE(rt_sigaction_handler_runs, "rt_sigaction kill")
{
    install(SIGUSR2, 0);
    R(kill(getpid(), SIGUSR2));
    out("  got=%s\n", signame(got_sig));
}

CASE(rt_sigaction_siginfo, "rt_sigaction rt_sigqueueinfo")
{
    install(SIGUSR1, SA_SIGINFO);
    union sigval v = {.sival_int = 1234};
    R(sigqueue(getpid(), SIGUSR1, v));
    out("  got=%s code=%s value=%d\n", signame(got_sig), code_name(got_code), got_value);
}

CASE(rt_sigaction_resethand, "rt_sigaction")
{
    install(SIGUSR1, SA_RESETHAND);
    raise(SIGUSR1);
    struct sigaction old;
    sigaction(SIGUSR1, NULL, &old);
    out("  got=%s reset_to_default=%d\n", signame(got_sig), old.sa_handler == SIG_DFL);
}

CASE(rt_sigprocmask_block_pending, "rt_sigprocmask rt_sigpending")
{
    install(SIGUSR1, 0);
    sigset_t set, old, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    R(sigprocmask(SIG_BLOCK, &set, &old));
    raise(SIGUSR1);
    out("  delivered while blocked=%d\n", got_sig != 0);
    R(sigpending(&pend));
    out("  pending USR1=%d\n", sigismember(&pend, SIGUSR1));
    R(sigprocmask(SIG_UNBLOCK, &set, NULL));
    out("  delivered after unblock=%s\n", signame(got_sig));
    R(sigprocmask(99, &set, NULL));
}

CASE(rt_sigprocmask_cannot_block_kill, "rt_sigprocmask")
{
    sigset_t set, cur;
    sigfillset(&set);
    R(sigprocmask(SIG_SETMASK, &set, NULL));
    R(sigprocmask(SIG_SETMASK, NULL, &cur));
    out("  KILL blocked=%d STOP blocked=%d USR1 blocked=%d\n", sigismember(&cur, SIGKILL),
        sigismember(&cur, SIGSTOP), sigismember(&cur, SIGUSR1));
    R(SC(SYS_rt_sigprocmask, SIG_SETMASK, NULL, NULL, 4));
}

CASE(kill_errors_and_zero, "kill")
{
    R(kill(getpid(), 0));
    R(kill(getpid(), 99));
    R(kill(999999, SIGTERM));
}

CASE(kill_child_default_action, "kill clone")
{
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    R(kill(pid, SIGTERM));
    reap(pid);
    pid = fork();
    if (pid == 0) {
        signal(SIGTERM, SIG_IGN);
        kill(getpid(), SIGTERM);
        _exit(5);
    }
    reap(pid);
}

CASE(kill_stop_continue, "kill wait4")
{
    pid_t pid = fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    kill(pid, SIGSTOP);
    int st;
    waitpid(pid, &st, WUNTRACED);
    show_status("after SIGSTOP", st);
    kill(pid, SIGCONT);
    waitpid(pid, &st, WCONTINUED);
    out("continued=%d\n", WIFCONTINUED(st));
    kill(pid, SIGKILL);
    reap(pid);
}

CASE(tkill_self, "tkill")
{
    install(SIGUSR1, SA_SIGINFO);
    R(SC(SYS_tkill, SC(SYS_gettid), SIGUSR1));
    out("  got=%s code=%s\n", signame(got_sig), code_name(got_code));
    R(SC(SYS_tkill, -1, SIGUSR1));
}

CASE(tgkill_self, "tgkill")
{
    install(SIGUSR2, 0);
    R(SC(SYS_tgkill, getpid(), SC(SYS_gettid), SIGUSR2));
    out("  got=%s\n", signame(got_sig));
    R(SC(SYS_tgkill, getpid(), 999999, SIGUSR2));
    R(SC(SYS_tgkill, getpid(), SC(SYS_gettid), 100));
}

CASE(rt_tgsigqueueinfo_value, "rt_tgsigqueueinfo")
{
    install(SIGUSR1, SA_SIGINFO);
    siginfo_t si = {0};
    si.si_signo = SIGUSR1;
    si.si_code = SI_QUEUE;
    si.si_value.sival_int = 77;
    si.si_pid = getpid();
    si.si_uid = getuid();
    R(SC(SYS_rt_tgsigqueueinfo, getpid(), SC(SYS_gettid), SIGUSR1, &si));
    out("  got=%s value=%d\n", signame(got_sig), got_value);
}

CASE(rt_sigqueueinfo_kernel_code_rejected, "rt_sigqueueinfo")
{
    /* Only a process signalling itself may forge a kernel si_code. */
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    siginfo_t si = {0};
    si.si_signo = SIGUSR1;
    si.si_code = SI_KERNEL;
    R(SC(SYS_rt_sigqueueinfo, pid, SIGUSR1, &si));
    si.si_code = SI_QUEUE;
    R(SC(SYS_rt_sigqueueinfo, pid, SIGUSR1, &si));
    reap(pid);
}

CASE(rt_sigsuspend_wakes, "rt_sigsuspend")
{
    install(SIGALRM, 0);
    sigset_t block, empty;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    sigprocmask(SIG_BLOCK, &block, NULL);
    alarm(1);
    sigemptyset(&empty);
    R(sigsuspend(&empty));
    out("  got=%s\n", signame(got_sig));
}

CASE(rt_sigtimedwait_pending, "rt_sigtimedwait")
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    raise(SIGUSR1);
    siginfo_t si;
    struct timespec ts = {0, 0};
    R(sigtimedwait(&set, &si, &ts));
    out("  si_signo=%s code=%s\n", signame(si.si_signo), code_name(si.si_code));
    R(sigtimedwait(&set, &si, &ts));
    struct timespec bad = {0, -1};
    R(sigtimedwait(&set, &si, &bad));
}

CASE(sigaltstack_handler_runs_on_it, "sigaltstack")
{
    static char alt[1 << 16];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0}, old;
    R(sigaltstack(&ss, &old));
    out("  old disabled=%d\n", !!(old.ss_flags & SS_DISABLE));
    R(sigaltstack(NULL, &old));
    out("  now size=%zu onstack=%d\n", old.ss_size, !!(old.ss_flags & SS_ONSTACK));
    stack_t small = {.ss_sp = alt, .ss_size = 16, .ss_flags = 0};
    R(sigaltstack(&small, NULL));
    stack_t badflags = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0x1234};
    R(sigaltstack(&badflags, NULL));
}

CASE(alarm_returns_remaining, "alarm")
{
    R(alarm(100));
    long left = alarm(0);
    out("alarm(0) remaining in [99,100]: %d\n", left >= 99 && left <= 100);
    R(alarm(0));
}

CASE(pause_interrupted, "pause")
{
    install(SIGALRM, 0);
    alarm(1);
    R(pause());
    out("  got=%s\n", signame(got_sig));
}

CASE(setitimer_getitimer, "setitimer getitimer")
{
    struct itimerval it = {{0, 0}, {50, 0}}, cur;
    R(setitimer(ITIMER_REAL, &it, NULL));
    R(getitimer(ITIMER_REAL, &cur));
    out("  remaining in (49,50]: %d interval=%ld\n",
        cur.it_value.tv_sec >= 49 && cur.it_value.tv_sec <= 50, (long)cur.it_interval.tv_sec);
    struct itimerval zero = {0};
    R(setitimer(ITIMER_REAL, &zero, &cur));
    R(getitimer(99, &cur));
}

CASE(setitimer_fires, "setitimer")
{
    install(SIGALRM, 0);
    struct itimerval it = {{0, 0}, {0, 20000}};
    R(setitimer(ITIMER_REAL, &it, NULL));
    while (!got_sig)
        pause();
    out("  got=%s\n", signame(got_sig));
}

CASE(rt_sigreturn_nested_handlers, "rt_sigreturn")
{
    /* Returning from a handler goes through rt_sigreturn; state must be restored. */
    install(SIGUSR1, 0);
    volatile int local = 41;
    raise(SIGUSR1);
    local++;
    raise(SIGUSR1);
    out("local=%d got=%s\n", local, signame(got_sig));
}

CASE(kill_sigchld_to_parent, "kill rt_sigaction")
{
    install(SIGCHLD, SA_SIGINFO);
    pid_t pid = fork();
    if (pid == 0)
        _exit(2);
    int st;
    waitpid(pid, &st, 0);
    out("SIGCHLD received=%d code=%s\n", got_sig == SIGCHLD, got_code == CLD_EXITED ? "CLD_EXITED" : "?");
}
