/* time family: clocks, sleeps, gettimeofday/time, POSIX timers. Values are compared,
 * never printed, so transcripts stay deterministic. */
#include "common.h"
#include <sys/time.h>
#include <sys/timex.h>

static double ts_sec(struct timespec t) { return t.tv_sec + t.tv_nsec / 1e9; }

static volatile sig_atomic_t fired;
static void on_timer(int sig) { (void)sig; fired++; }

CASE(clock_gettime_monotonic_advances, "clock_gettime")
{
    struct timespec a, b;
    R(clock_gettime(CLOCK_MONOTONIC, &a));
    usleep(10000);
    R(clock_gettime(CLOCK_MONOTONIC, &b));
    out("  advanced>=10ms: %d\n", ts_sec(b) - ts_sec(a) >= 0.0099);
}

CASE(clock_gettime_clocks, "clock_gettime")
{
    struct timespec t;
    static const struct { clockid_t id; const char *name; } clocks[] = {
        {CLOCK_REALTIME, "REALTIME"}, {CLOCK_MONOTONIC, "MONOTONIC"},
        {CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME"}, {CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME"},
        {CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW"}, {CLOCK_REALTIME_COARSE, "REALTIME_COARSE"},
        {CLOCK_BOOTTIME, "BOOTTIME"}, {CLOCK_TAI, "TAI"}, {999, "invalid"}};
    for (unsigned i = 0; i < sizeof clocks / sizeof *clocks; i++) {
        long r = SC(SYS_clock_gettime, clocks[i].id, &t);
        out("clock_gettime(%s) = %s\n", clocks[i].name, r == 0 ? "ok" : errname(errno));
    }
}

CASE(clock_gettime_realtime_matches_time, "clock_gettime time gettimeofday")
{
    struct timespec ts;
    struct timeval tv;
    clock_gettime(CLOCK_REALTIME, &ts);
    long t = SC(SYS_time, NULL);
    R(SC(SYS_gettimeofday, &tv, NULL));
    out("time within 2s of realtime: %d\n", labs(t - ts.tv_sec) <= 2);
    out("gettimeofday within 2s: %d\n", labs(tv.tv_sec - ts.tv_sec) <= 2);
    out("after 2020: %d\n", t > 1577836800);
}

CASE(time_writes_pointer, "time")
{
    time_t t = 0;
    long r = SC(SYS_time, &t);
    out("time(&t) == t: %d\n", r == t);
}

CASE(gettimeofday_usec_range, "gettimeofday")
{
    struct timeval tv;
    R(SC(SYS_gettimeofday, &tv, NULL));
    out("  usec in range: %d\n", tv.tv_usec >= 0 && tv.tv_usec < 1000000);
}

CASE(clock_getres_values, "clock_getres")
{
    struct timespec r;
    R(clock_getres(CLOCK_MONOTONIC, &r));
    out("  res<=1ms: %d\n", r.tv_sec == 0 && r.tv_nsec <= 1000000);
    R(clock_getres(CLOCK_REALTIME, NULL));
    R(clock_getres(12345, &r));
}

CASE(nanosleep_duration, "nanosleep")
{
    struct timespec a, b, req = {0, 20000000};
    clock_gettime(CLOCK_MONOTONIC, &a);
    R(SC(SYS_nanosleep, &req, NULL));
    clock_gettime(CLOCK_MONOTONIC, &b);
    out("  slept>=20ms: %d\n", ts_sec(b) - ts_sec(a) >= 0.0199);
    struct timespec bad = {0, 1000000000};
    R(SC(SYS_nanosleep, &bad, NULL));
    struct timespec neg = {-1, 0};
    R(SC(SYS_nanosleep, &neg, NULL));
}

CASE(nanosleep_interrupted_remaining, "nanosleep")
{
    signal(SIGALRM, on_timer);
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec req = {5, 0}, rem = {0, 0};
    R(SC(SYS_nanosleep, &req, &rem));
    out("  rem in (4,5]: %d\n", rem.tv_sec >= 4 && rem.tv_sec <= 5);
}

CASE(clock_nanosleep_abstime, "clock_nanosleep")
{
    struct timespec now, b;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct timespec until = now;
    until.tv_nsec += 30000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    R(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL));
    clock_gettime(CLOCK_MONOTONIC, &b);
    out("  reached deadline: %d\n", ts_sec(b) >= ts_sec(until));
    /* clock_nanosleep returns the error number rather than setting errno. */
    out("bad clock: %s\n", errname(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &until, NULL)));
    out("past deadline: %d\n", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, NULL));
}

CASE(timer_create_signal_fires, "timer_create timer_settime timer_delete")
{
    signal(SIGUSR1, on_timer);
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    timer_t t;
    R(timer_create(CLOCK_MONOTONIC, &sev, &t));
    struct itimerspec its = {{0, 0}, {0, 10000000}};
    R(timer_settime(t, 0, &its, NULL));
    while (!fired)
        pause();
    out("  fired=%d\n", (int)fired);
    R(timer_delete(t));
    R(timer_delete(t));
}

CASE(timer_gettime_disarmed_and_armed, "timer_gettime timer_settime")
{
    struct sigevent sev = {.sigev_notify = SIGEV_NONE};
    timer_t t;
    R(timer_create(CLOCK_REALTIME, &sev, &t));
    struct itimerspec cur;
    R(timer_gettime(t, &cur));
    out("  disarmed=%d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
    struct itimerspec its = {{1, 0}, {100, 0}}, old;
    R(timer_settime(t, 0, &its, &old));
    R(timer_gettime(t, &cur));
    out("  remaining in (99,100]: %d interval=%ld\n",
        cur.it_value.tv_sec >= 99 && cur.it_value.tv_sec <= 100, (long)cur.it_interval.tv_sec);
    struct itimerspec bad = {{0, 0}, {0, 2000000000}};
    R(timer_settime(t, 0, &bad, NULL));
    timer_delete(t);
}

CASE(timer_getoverrun_counts, "timer_getoverrun")
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2};
    timer_t t;
    MUST(timer_create(CLOCK_MONOTONIC, &sev, &t));
    struct itimerspec its = {{0, 1000000}, {0, 1000000}};
    timer_settime(t, 0, &its, NULL);
    usleep(30000);
    siginfo_t si;
    sigwaitinfo(&set, &si);
    long over = timer_getoverrun(t);
    out("overrun>0 after 30 expiries: %d code=%s\n", over > 0, si.si_code == SI_TIMER ? "SI_TIMER" : "?");
    R(SC(SYS_timer_getoverrun, 999));
}

CASE(timer_create_errors, "timer_create")
{
    timer_t t;
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = 999};
    R(timer_create(CLOCK_MONOTONIC, &sev, &t));
    R(timer_create(12345, NULL, &t));
}

CASE(adjtimex_query, "adjtimex")
{
    struct timex tx = {.modes = 0};
    long r = adjtimex(&tx);
    out("adjtimex(query) = %s\n", r >= 0 ? "ok" : errname(errno));
}

CASE(clock_settime_invalid, "clock_settime")
{
    struct timespec t = {0, 0};
    R(clock_settime(CLOCK_MONOTONIC, &t));
    struct timespec bad = {0, -5};
    R(clock_settime(CLOCK_REALTIME, &bad));
}
