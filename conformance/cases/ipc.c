/* ipc family: pipes, socketpair, unix and loopback sockets, SysV IPC, POSIX mqueues. */
#include "common.h"
#include <mqueue.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>

// normalise[test_getsockname_inet_port]: port=\d+ => port=N

static struct sockaddr_un unix_addr(const char *path, socklen_t *len)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    *len = offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
    return a;
}

CASE(pipe_roundtrip, "pipe")
{
    int p[2];
    R(SC(SYS_pipe, p));
    out("  fds=%d,%d\n", p[0], p[1]);
    R(write(p[1], "ping", 4));
    char buf[8] = {0};
    R(read(p[0], buf, sizeof buf));
    out("  %s\n", buf);
    close(p[1]);
    R(read(p[0], buf, sizeof buf));
    R(write(p[0], "x", 1));
}

CASE(pipe2_flags, "pipe2")
{
    int p[2];
    R(pipe2(p, O_CLOEXEC | O_NONBLOCK));
    R(fcntl(p[0], F_GETFD));
    R(fcntl(p[0], F_GETFL) & O_NONBLOCK);
    char c;
    R(read(p[0], &c, 1));
    R(pipe2(p, 0x1));
}

CASE(pipe2_nonblock_full, "pipe2 write")
{
    int p[2];
    MUST(pipe2(p, O_NONBLOCK));
    static char chunk[4096];
    long total = 0, r;
    while ((r = write(p[1], chunk, sizeof chunk)) > 0)
        total += r;
    out("filled=%ld then %s\n", total, errname(errno));
}

CASE(pipe2_partial_reads, "pipe2 read")
{
    int p[2];
    MUST(pipe(p));
    write(p[1], "abc", 3);
    write(p[1], "def", 3);
    char buf[8] = {0};
    R(read(p[0], buf, 4));
    R(read(p[0], buf, 4));
}

CASE(mknodat_fifo_open_nonblock, "mknodat openat")
{
    R(mkfifo("fifo", 0644));
    R(open("fifo", O_WRONLY | O_NONBLOCK));
    int r = R(open("fifo", O_RDONLY | O_NONBLOCK));
    int w = R(open("fifo", O_WRONLY | O_NONBLOCK));
    write(w, "ff", 2);
    char buf[4] = {0};
    R(read(r, buf, 3));
}

CASE(socketpair_stream, "socketpair")
{
    int sv[2];
    R(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    R(write(sv[0], "hi", 2));
    char buf[4] = {0};
    R(read(sv[1], buf, 4));
    R(write(sv[1], "yo", 2));
    R(read(sv[0], buf, 4));
    R(socketpair(AF_INET, SOCK_STREAM, 0, sv));
}

CASE(socketpair_dgram_boundaries, "socketpair")
{
    int sv[2];
    R(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    write(sv[0], "one", 3);
    write(sv[0], "three", 5);
    char buf[16] = {0};
    R(read(sv[1], buf, sizeof buf));
    R(read(sv[1], buf, 2));
}

CASE(socketpair_seqpacket_cloexec, "socketpair")
{
    int sv[2];
    R(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv));
    R(fcntl(sv[0], F_GETFD));
    char c;
    R(read(sv[0], &c, 1));
}

CASE(socket_errors, "socket")
{
    R(socket(AF_UNIX, SOCK_STREAM, 0) >= 0);
    R(socket(12345, SOCK_STREAM, 0));
    R(socket(AF_UNIX, 99, 0));
    R(socket(AF_UNIX, SOCK_STREAM, 7));
}

CASE(bind_unix_path, "bind")
{
    int s = MUST(socket(AF_UNIX, SOCK_STREAM, 0));
    socklen_t len;
    struct sockaddr_un a = unix_addr("sock", &len);
    R(bind(s, (struct sockaddr *)&a, len));
    show_lstat("sock");
    int s2 = MUST(socket(AF_UNIX, SOCK_STREAM, 0));
    R(bind(s2, (struct sockaddr *)&a, len));
    struct sockaddr_un bad = unix_addr("nodir/sock", &len);
    R(bind(s2, (struct sockaddr *)&bad, len));
}

CASE(connect_unix_stream_accept, "connect listen accept")
{
    int srv = MUST(socket(AF_UNIX, SOCK_STREAM, 0));
    socklen_t len;
    struct sockaddr_un a = unix_addr("srv.sock", &len);
    MUST(bind(srv, (struct sockaddr *)&a, len));
    R(listen(srv, 4));
    int cli = MUST(socket(AF_UNIX, SOCK_STREAM, 0));
    R(connect(cli, (struct sockaddr *)&a, len));
    int conn = R(accept(srv, NULL, NULL));
    R(write(cli, "req", 3));
    char buf[8] = {0};
    R(read(conn, buf, sizeof buf));
    out("  server got %s\n", buf);
}

CASE(connect_unix_errors, "connect")
{
    int cli = MUST(socket(AF_UNIX, SOCK_STREAM, 0));
    socklen_t len;
    struct sockaddr_un a = unix_addr("nobody.sock", &len);
    R(connect(cli, (struct sockaddr *)&a, len));
    put("plain", "");
    struct sockaddr_un b = unix_addr("plain", &len);
    R(connect(cli, (struct sockaddr *)&b, len));
    int srv = MUST(socket(AF_UNIX, SOCK_STREAM, 0));
    struct sockaddr_un c = unix_addr("notlistening", &len);
    MUST(bind(srv, (struct sockaddr *)&c, len));
    R(connect(cli, (struct sockaddr *)&c, len));
}

CASE(accept4_flags, "accept4")
{
    int srv = MUST(socket(AF_UNIX, SOCK_STREAM, 0));
    socklen_t len;
    struct sockaddr_un a = unix_addr("s", &len);
    MUST(bind(srv, (struct sockaddr *)&a, len));
    MUST(listen(srv, 1));
    int cli = MUST(socket(AF_UNIX, SOCK_STREAM, 0));
    MUST(connect(cli, (struct sockaddr *)&a, len));
    int c = R(accept4(srv, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK));
    R(fcntl(c, F_GETFD));
    R(fcntl(c, F_GETFL) & O_NONBLOCK);
    R(accept4(srv, NULL, NULL, 0x1));
    int nb = MUST(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
    struct sockaddr_un b = unix_addr("s2", &len);
    MUST(bind(nb, (struct sockaddr *)&b, len));
    MUST(listen(nb, 1));
    R(accept4(nb, NULL, NULL, 0));
}

CASE(listen_on_unbound_dgram, "listen")
{
    int d = MUST(socket(AF_UNIX, SOCK_DGRAM, 0));
    R(listen(d, 1));
    int fd = MUST(open(".", O_RDONLY));
    R(listen(fd, 1));
}

CASE(sendto_recvfrom_unix_dgram, "sendto recvfrom")
{
    int a = MUST(socket(AF_UNIX, SOCK_DGRAM, 0)), b = MUST(socket(AF_UNIX, SOCK_DGRAM, 0));
    socklen_t la, lb;
    struct sockaddr_un aa = unix_addr("a.sock", &la), ba = unix_addr("b.sock", &lb);
    MUST(bind(a, (struct sockaddr *)&aa, la));
    MUST(bind(b, (struct sockaddr *)&ba, lb));
    R(sendto(a, "dgram", 5, 0, (struct sockaddr *)&ba, lb));
    char buf[16] = {0};
    struct sockaddr_un from = {0};
    socklen_t fl = sizeof from;
    R(recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
    out("  data=%s from=%s\n", buf, from.sun_path);
    R(recvfrom(b, buf, sizeof buf, MSG_DONTWAIT, NULL, NULL));
}

CASE(sendmsg_recvmsg_scm_rights, "sendmsg recvmsg")
{
    int sv[2];
    MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    put("passed", "through SCM_RIGHTS");
    int fd = MUST(open("passed", O_RDONLY));
    char cbuf[CMSG_SPACE(sizeof(int))] = {0};
    struct iovec iov = {"x", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                       .msg_controllen = sizeof cbuf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    R(sendmsg(sv[0], &m, 0));
    close(fd);
    char data, rbuf[CMSG_SPACE(sizeof(int))];
    struct iovec riov = {&data, 1};
    struct msghdr rm = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = rbuf,
                        .msg_controllen = sizeof rbuf};
    R(recvmsg(sv[1], &rm, MSG_CMSG_CLOEXEC));
    struct cmsghdr *rc = CMSG_FIRSTHDR(&rm);
    int got;
    memcpy(&got, CMSG_DATA(rc), sizeof got);
    R(fcntl(got, F_GETFD));
    char buf[32] = {0};
    R(read(got, buf, sizeof buf - 1));
    out("  %s\n", buf);
}

CASE(sendmsg_scm_credentials, "sendmsg setsockopt")
{
    int sv[2];
    MUST(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    int on = 1;
    R(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
    R(send(sv[0], "c", 1, 0));
    char data, cbuf[CMSG_SPACE(sizeof(struct ucred))];
    struct iovec iov = {&data, 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                       .msg_controllen = sizeof cbuf};
    R(recvmsg(sv[1], &m, 0));
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    struct ucred cr;
    memcpy(&cr, CMSG_DATA(c), sizeof cr);
    out("  cred pid==getpid %d uid=%u gid=%u\n", cr.pid == getpid(), cr.uid, cr.gid);
}

CASE(sendmmsg_recvmmsg_batch, "sendmmsg recvmmsg")
{
    int sv[2];
    MUST(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    struct iovec iov[3] = {{"a", 1}, {"bb", 2}, {"ccc", 3}};
    struct mmsghdr msgs[3] = {0};
    for (int i = 0; i < 3; i++) {
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    R(sendmmsg(sv[0], msgs, 3, 0));
    char bufs[3][8];
    struct iovec riov[3];
    struct mmsghdr rmsgs[3] = {0};
    for (int i = 0; i < 3; i++) {
        riov[i] = (struct iovec){bufs[i], 8};
        rmsgs[i].msg_hdr.msg_iov = &riov[i];
        rmsgs[i].msg_hdr.msg_iovlen = 1;
    }
    R(recvmmsg(sv[1], rmsgs, 3, MSG_DONTWAIT, NULL));
    out("  lens=%u,%u,%u\n", rmsgs[0].msg_len, rmsgs[1].msg_len, rmsgs[2].msg_len);
}

CASE(shutdown_write_side, "shutdown")
{
    int sv[2];
    MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    signal(SIGPIPE, SIG_IGN);
    R(shutdown(sv[0], SHUT_WR));
    char c;
    R(read(sv[1], &c, 1));
    R(write(sv[0], "x", 1));
    R(shutdown(sv[0], 9));
    int fd = MUST(open(".", O_RDONLY));
    R(shutdown(fd, SHUT_RD));
}

CASE(getsockname_getpeername_unix, "getsockname getpeername")
{
    int srv = MUST(socket(AF_UNIX, SOCK_STREAM, 0));
    socklen_t len;
    struct sockaddr_un a = unix_addr("named", &len);
    MUST(bind(srv, (struct sockaddr *)&a, len));
    MUST(listen(srv, 1));
    int cli = MUST(socket(AF_UNIX, SOCK_STREAM, 0));
    MUST(connect(cli, (struct sockaddr *)&a, len));
    struct sockaddr_un got = {0};
    socklen_t gl = sizeof got;
    R(getsockname(srv, (struct sockaddr *)&got, &gl));
    out("  name=%s\n", got.sun_path);
    gl = sizeof got;
    memset(&got, 0, sizeof got);
    R(getpeername(cli, (struct sockaddr *)&got, &gl));
    out("  peer=%s\n", got.sun_path);
    R(getpeername(srv, (struct sockaddr *)&got, &gl));
}

CASE(getsockname_inet_port, "getsockname bind")
{
    int s = MUST(socket(AF_INET, SOCK_STREAM, 0));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    R(bind(s, (struct sockaddr *)&a, sizeof a));
    socklen_t l = sizeof a;
    R(getsockname(s, (struct sockaddr *)&a, &l));
    out("  port=%d nonzero=%d\n", ntohs(a.sin_port), a.sin_port != 0);
}

CASE(setsockopt_getsockopt_values, "setsockopt getsockopt")
{
    int s = MUST(socket(AF_UNIX, SOCK_STREAM, 0));
    int v = 0;
    socklen_t l = sizeof v;
    R(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l));
    out("  SO_TYPE stream=%d\n", v == SOCK_STREAM);
    int on = 1;
    R(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on));
    l = sizeof v;
    R(getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &l));
    out("  SO_REUSEADDR=%d\n", v);
    R(setsockopt(s, SOL_SOCKET, 9999, &on, sizeof on));
    R(getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &l));
    out("  SO_ERROR=%d\n", v);
}

CASE(socket_tcp_loopback, "socket connect accept")
{
    int srv = MUST(socket(AF_INET, SOCK_STREAM, 0));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    R(bind(srv, (struct sockaddr *)&a, sizeof a));
    socklen_t l = sizeof a;
    getsockname(srv, (struct sockaddr *)&a, &l);
    R(listen(srv, 1));
    int cli = MUST(socket(AF_INET, SOCK_STREAM, 0));
    R(connect(cli, (struct sockaddr *)&a, sizeof a));
    int c = R(accept(srv, NULL, NULL) >= 0);
    (void)c;
    R(write(cli, "tcp", 3));
}

CASE(shmget_shmat_roundtrip, "shmget shmat shmdt shmctl")
{
    int id = R(shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600) >= 0);
    id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    char *p = RP(shmat(id, NULL, 0));
    strcpy(p, "shared");
    pid_t pid = fork();
    if (pid == 0) {
        char *q = shmat(id, NULL, SHM_RDONLY);
        out("  child sees %s\n", q);
        _exit(0);
    }
    reap(pid);
    struct shmid_ds ds;
    R(shmctl(id, IPC_STAT, &ds));
    out("  size=%zu nattch=%lu\n", ds.shm_segsz, (unsigned long)ds.shm_nattch);
    R(shmdt(p));
    R(shmctl(id, IPC_RMID, NULL));
    R(shmget(IPC_PRIVATE, 0, 0600));
}

CASE(semget_semop_counts, "semget semop semctl semtimedop")
{
    int id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    out("semget ok=%d\n", id >= 0);
    R(semctl(id, 0, SETVAL, 2));
    struct sembuf dec = {0, -1, IPC_NOWAIT};
    R(semop(id, &dec, 1));
    R(semop(id, &dec, 1));
    R(semop(id, &dec, 1));
    struct timespec ts = {0, 1000000};
    struct sembuf wait = {0, -1, 0};
    R(semtimedop(id, &wait, 1, &ts));
    R(semctl(id, 0, GETVAL));
    R(semctl(id, 0, IPC_RMID));
}

CASE(msgget_msgsnd_msgrcv, "msgget msgsnd msgrcv msgctl")
{
    int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    out("msgget ok=%d\n", id >= 0);
    struct { long type; char text[16]; } m = {2, "typed"}, r = {0};
    R(msgsnd(id, &m, 6, 0));
    m.type = 1;
    strcpy(m.text, "first");
    R(msgsnd(id, &m, 6, 0));
    R(msgrcv(id, &r, sizeof r.text, 2, 0));
    out("  got type=%ld text=%s\n", r.type, r.text);
    R(msgrcv(id, &r, 2, 0, IPC_NOWAIT));
    R(msgrcv(id, &r, sizeof r.text, 5, IPC_NOWAIT));
    struct msqid_ds ds;
    R(msgctl(id, IPC_STAT, &ds));
    out("  qnum=%lu\n", (unsigned long)ds.msg_qnum);
    R(msgctl(id, IPC_RMID, NULL));
}

CASE(mq_open_send_receive, "mq_open mq_timedsend mq_timedreceive mq_getsetattr mq_unlink")
{
    char name[64];
    snprintf(name, sizeof name, "/conf-%d", getpid());
    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 32};
    mqd_t q = mq_open(name, O_CREAT | O_RDWR | O_NONBLOCK, 0600, &attr);
    out("mq_open ok=%d\n", q != (mqd_t)-1);
    R(mq_send(q, "low", 3, 1));
    R(mq_send(q, "high", 4, 9));
    char buf[32] = {0};
    unsigned prio;
    R(mq_receive(q, buf, sizeof buf, &prio));
    out("  got %s prio=%u\n", buf, prio);
    struct mq_attr now;
    R(mq_getattr(q, &now));
    out("  curmsgs=%ld\n", now.mq_curmsgs);
    R(mq_receive(q, buf, 4, &prio));
    R(mq_unlink(name));
    R(mq_unlink(name));
}
