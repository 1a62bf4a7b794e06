/* poll family: poll/ppoll, select/pselect6, epoll. */
#include "common.h"
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>

static void pipe_with_data(int p[2])
{
    MUST(pipe(p));
    write(p[1], "x", 1);
}

CASE(poll_readable_writable, "poll")
{
    int p[2];
    pipe_with_data(p);
    struct pollfd fds[3] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {-1, POLLIN, 0}};
    R(poll(fds, 3, 0));
    out("  revents %#x %#x %#x\n", fds[0].revents, fds[1].revents, fds[2].revents);
}

CASE(poll_timeout_nothing, "poll")
{
    int p[2];
    MUST(pipe(p));
    struct pollfd f = {p[0], POLLIN, 0};
    R(poll(&f, 1, 20));
    R(poll(NULL, 0, 10));
}

CASE(poll_hup_and_nval, "poll")
{
    int p[2];
    MUST(pipe(p));
    close(p[1]);
    struct pollfd fds[2] = {{p[0], POLLIN, 0}, {999, POLLIN, 0}};
    R(poll(fds, 2, 0));
    out("  revents %#x %#x\n", fds[0].revents, fds[1].revents);
}

CASE(ppoll_sigmask, "ppoll")
{
    int p[2];
    pipe_with_data(p);
    struct pollfd f = {p[0], POLLIN, 0};
    struct timespec ts = {0, 0};
    sigset_t m;
    sigemptyset(&m);
    R(ppoll(&f, 1, &ts, &m));
    struct timespec bad = {0, -1};
    R(ppoll(&f, 1, &bad, NULL));
}

CASE(select_readiness, "select")
{
    int p[2];
    pipe_with_data(p);
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(p[0], &r);
    FD_SET(p[1], &w);
    struct timeval tv = {0, 0};
    R(SC(SYS_select, p[1] + 1, &r, &w, NULL, &tv));
    out("  r=%d w=%d\n", FD_ISSET(p[0], &r), FD_ISSET(p[1], &w));
    R(SC(SYS_select, -1, NULL, NULL, NULL, &tv));
    fd_set bad;
    FD_ZERO(&bad);
    FD_SET(900, &bad);
    R(SC(SYS_select, 901, &bad, NULL, NULL, &tv));
}

CASE(select_timeout_updates, "select")
{
    struct timeval tv = {0, 30000};
    R(SC(SYS_select, 0, NULL, NULL, NULL, &tv));
    out("  remaining=%ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
}

CASE(pselect6_timeout, "pselect6")
{
    int p[2];
    MUST(pipe(p));
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timespec ts = {0, 10000000};
    R(pselect(p[0] + 1, &r, NULL, NULL, &ts, NULL));
    write(p[1], "x", 1);
    FD_SET(p[0], &r);
    R(pselect(p[0] + 1, &r, NULL, NULL, &ts, NULL));
}

CASE(epoll_create1_and_legacy, "epoll_create1 epoll_create")
{
    int e = R(epoll_create1(EPOLL_CLOEXEC));
    R(fcntl(e, F_GETFD));
    R(epoll_create1(0x1));
    R(SC(SYS_epoll_create, 0));
    R(SC(SYS_epoll_create, 1) >= 0);
}

CASE(epoll_ctl_add_mod_del, "epoll_ctl")
{
    int e = MUST(epoll_create1(0)), p[2];
    MUST(pipe(p));
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
    R(epoll_ctl(e, EPOLL_CTL_ADD, p[0], &ev));
    R(epoll_ctl(e, EPOLL_CTL_ADD, p[0], &ev));
    R(epoll_ctl(e, EPOLL_CTL_MOD, p[0], &ev));
    R(epoll_ctl(e, EPOLL_CTL_DEL, p[0], NULL));
    R(epoll_ctl(e, EPOLL_CTL_DEL, p[0], NULL));
    R(epoll_ctl(e, EPOLL_CTL_ADD, e, &ev));
    put("f", "");
    int f = MUST(open("f", O_RDONLY));
    R(epoll_ctl(e, EPOLL_CTL_ADD, f, &ev));
}

CASE(epoll_wait_level_triggered, "epoll_wait")
{
    int e = MUST(epoll_create1(0)), p[2];
    pipe_with_data(p);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 42}, got[4];
    MUST(epoll_ctl(e, EPOLL_CTL_ADD, p[0], &ev));
    R(epoll_wait(e, got, 4, 0));
    out("  data=%u events=%#x\n", got[0].data.u32, got[0].events);
    R(epoll_wait(e, got, 4, 0));
    R(epoll_wait(e, got, 0, 0));
}

CASE(epoll_wait_edge_triggered, "epoll_wait")
{
    int e = MUST(epoll_create1(0)), p[2];
    pipe_with_data(p);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = 1}, got[4];
    MUST(epoll_ctl(e, EPOLL_CTL_ADD, p[0], &ev));
    R(epoll_wait(e, got, 4, 0));
    R(epoll_wait(e, got, 4, 0));
    write(p[1], "y", 1);
    R(epoll_wait(e, got, 4, 0));
}

CASE(epoll_wait_oneshot, "epoll_wait epoll_ctl")
{
    int e = MUST(epoll_create1(0)), p[2];
    pipe_with_data(p);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT}, got[2];
    MUST(epoll_ctl(e, EPOLL_CTL_ADD, p[0], &ev));
    R(epoll_wait(e, got, 2, 0));
    R(epoll_wait(e, got, 2, 0));
    R(epoll_ctl(e, EPOLL_CTL_MOD, p[0], &ev));
    R(epoll_wait(e, got, 2, 0));
}

CASE(epoll_pwait_timeout, "epoll_pwait")
{
    int e = MUST(epoll_create1(0)), p[2];
    MUST(pipe(p));
    struct epoll_event ev = {.events = EPOLLIN}, got[1];
    MUST(epoll_ctl(e, EPOLL_CTL_ADD, p[0], &ev));
    sigset_t m;
    sigemptyset(&m);
    R(epoll_pwait(e, got, 1, 10, &m));
    R(epoll_pwait(-1, got, 1, 0, &m));
}

CASE(epoll_pwait2_timespec, "epoll_pwait2")
{
    int e = MUST(epoll_create1(0)), p[2];
    pipe_with_data(p);
    struct epoll_event ev = {.events = EPOLLIN}, got[1];
    MUST(epoll_ctl(e, EPOLL_CTL_ADD, p[0], &ev));
    struct timespec ts = {0, 0};
    R(SC(SYS_epoll_pwait2, e, got, 1, &ts, NULL, 8));
    struct timespec bad = {0, -1};
    R(SC(SYS_epoll_pwait2, e, got, 1, &bad, NULL, 8));
}

CASE(epoll_wait_hup_on_close, "epoll_wait")
{
    int e = MUST(epoll_create1(0)), sv[2];
    MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP}, got[1];
    MUST(epoll_ctl(e, EPOLL_CTL_ADD, sv[0], &ev));
    close(sv[1]);
    R(epoll_wait(e, got, 1, 0));
    out("  events=%#x\n", got[0].events);
}
