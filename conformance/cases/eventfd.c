/* eventfd/timerfd/signalfd family. */
#include "common.h"
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

CASE(eventfd2_counter, "eventfd2")
{
    int fd = R(eventfd(3, 0));
    uint64_t v = 4;
    R(write(fd, &v, sizeof v));
    R(read(fd, &v, sizeof v));
    out("  value=%lu\n", (unsigned long)v);
    R(read(fd, &v, 4));
    uint64_t bad = UINT64_MAX;
    R(write(fd, &bad, sizeof bad));
}

CASE(eventfd2_semaphore_nonblock, "eventfd2")
{
    int fd = R(eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK));
    uint64_t v;
    R(read(fd, &v, sizeof v));
    out("  value=%lu\n", (unsigned long)v);
    R(read(fd, &v, sizeof v));
    R(read(fd, &v, sizeof v));
    R(eventfd(0, 0x1));
}

CASE(eventfd_legacy, "eventfd")
{
    int fd = R(SC(SYS_eventfd, 5));
    uint64_t v;
    R(read(fd, &v, sizeof v));
    out("  value=%lu\n", (unsigned long)v);
}

CASE(eventfd2_overflow_blocks, "eventfd2")
{
    int fd = MUST(eventfd(0, EFD_NONBLOCK));
    uint64_t v = UINT64_MAX - 1;
    R(write(fd, &v, sizeof v));
    v = 1;
    R(write(fd, &v, sizeof v));
}

CASE(timerfd_create_settime_read, "timerfd_create timerfd_settime")
{
    int fd = R(timerfd_create(CLOCK_MONOTONIC, 0));
    struct itimerspec its = {{0, 0}, {0, 10000000}};
    R(timerfd_settime(fd, 0, &its, NULL));
    uint64_t exp;
    R(read(fd, &exp, sizeof exp));
    out("  expirations=%lu\n", (unsigned long)exp);
}

CASE(timerfd_gettime_and_nonblock, "timerfd_gettime timerfd_create")
{
    int fd = MUST(timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC));
    struct itimerspec cur;
    R(timerfd_gettime(fd, &cur));
    out("  disarmed=%d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
    struct itimerspec its = {{0, 0}, {60, 0}};
    R(timerfd_settime(fd, 0, &its, NULL));
    R(timerfd_gettime(fd, &cur));
    out("  remaining in (59,60]: %d\n", cur.it_value.tv_sec >= 59 && cur.it_value.tv_sec <= 60);
    uint64_t exp;
    R(read(fd, &exp, sizeof exp));
    R(fcntl(fd, F_GETFD));
}

CASE(timerfd_create_errors, "timerfd_create timerfd_settime")
{
    R(timerfd_create(12345, 0));
    R(timerfd_create(CLOCK_MONOTONIC, 0x1));
    int fd = MUST(timerfd_create(CLOCK_MONOTONIC, 0));
    struct itimerspec bad = {{0, 0}, {0, 1000000000}};
    R(timerfd_settime(fd, 0, &bad, NULL));
    R(timerfd_settime(fd, 0x100, &bad, NULL));
}

CASE(timerfd_settime_abstime_past, "timerfd_settime")
{
    int fd = MUST(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
    struct itimerspec its = {{0, 0}, {0, 1}};
    R(timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL));
    uint64_t exp = 0;
    R(read(fd, &exp, sizeof exp));
    out("  expirations=%lu\n", (unsigned long)exp);
}

CASE(signalfd4_reads_signal, "signalfd4")
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigprocmask(SIG_BLOCK, &m, NULL);
    int fd = R(signalfd(-1, &m, SFD_NONBLOCK));
    struct signalfd_siginfo si;
    R(read(fd, &si, sizeof si));
    raise(SIGUSR1);
    R(read(fd, &si, sizeof si));
    out("  signo=%s code=%s\n", signame(si.ssi_signo), si.ssi_code == SI_TKILL ? "SI_TKILL" : "?");
    R(read(fd, &si, 8));
}

CASE(signalfd4_update_mask, "signalfd4")
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigaddset(&m, SIGUSR2);
    sigprocmask(SIG_BLOCK, &m, NULL);
    sigset_t only1;
    sigemptyset(&only1);
    sigaddset(&only1, SIGUSR1);
    int fd = MUST(signalfd(-1, &only1, SFD_NONBLOCK));
    raise(SIGUSR2);
    struct signalfd_siginfo si;
    R(read(fd, &si, sizeof si));
    R(signalfd(fd, &m, 0));
    R(read(fd, &si, sizeof si));
    out("  signo=%s\n", signame(si.ssi_signo));
    R(signalfd(0, &m, 0));
    R(signalfd(-1, &m, 0x1));
}

CASE(signalfd_legacy, "signalfd")
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR2);
    sigprocmask(SIG_BLOCK, &m, NULL);
    int fd = R(SC(SYS_signalfd, -1, &m, 8));
    raise(SIGUSR2);
    struct signalfd_siginfo si;
    R(read(fd, &si, sizeof si));
    out("  signo=%s\n", signame(si.ssi_signo));
}

CASE(eventfd2_in_epoll_and_poll, "eventfd2 poll")
{
    int fd = MUST(eventfd(0, EFD_NONBLOCK));
    struct pollfd { int fd; short events, revents; } p = {fd, 1 /* POLLIN */, 0};
    R(SC(SYS_poll, &p, 1, 0));
    uint64_t v = 1;
    write(fd, &v, sizeof v);
    R(SC(SYS_poll, &p, 1, 0));
    out("  revents=%#x\n", p.revents);
}
