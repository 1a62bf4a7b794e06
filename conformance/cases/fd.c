/* fd family: dup/dup2/dup3, fcntl, ioctl on descriptors, lseek, flock, kcmp. */
#include "common.h"
#include <linux/kcmp.h>
#include <sys/file.h>
#include <sys/ioctl.h>

CASE(dup_lowest_free, "dup")
{
    int fd = MUST(open(".", O_RDONLY));
    R(dup(fd));
    R(dup(fd));
    close(fd);
    R(dup(fd + 1));
    R(dup(-1));
    R(dup(4000));
}

CASE(dup_shares_offset, "dup lseek")
{
    put("f", "abcdef");
    int a = MUST(open("f", O_RDONLY));
    int b = R(dup(a));
    char c[3] = {0};
    read(a, c, 2);
    R(lseek(b, 0, SEEK_CUR));
    read(b, c, 2);
    out("  read via dup: %s\n", c);
    R(fcntl(b, F_GETFD));
}

CASE(dup2_basic, "dup2")
{
    int fd = MUST(open(".", O_RDONLY));
    R(SC(SYS_dup2, fd, 10));
    R(SC(SYS_dup2, fd, fd));
    R(SC(SYS_dup2, 77, 10));
    R(SC(SYS_dup2, fd, -1));
    R(fcntl(10, F_GETFD));
}

CASE(dup2_replaces_open, "dup2")
{
    put("a", "A");
    put("b", "B");
    int a = MUST(open("a", O_RDONLY)), b = MUST(open("b", O_RDONLY));
    R(SC(SYS_dup2, a, b));
    char c = 0;
    read(b, &c, 1);
    out("  read: %c\n", c);
}

CASE(dup3_cloexec, "dup3")
{
    int fd = MUST(open(".", O_RDONLY));
    R(dup3(fd, 20, O_CLOEXEC));
    R(fcntl(20, F_GETFD));
    R(dup3(fd, fd, 0));
    R(dup3(fd, 21, 0x1));
}

CASE(fcntl_dupfd, "fcntl")
{
    int fd = MUST(open(".", O_RDONLY));
    R(fcntl(fd, F_DUPFD, 30));
    R(fcntl(fd, F_DUPFD, 30));
    R(fcntl(fd, F_DUPFD_CLOEXEC, 40));
    R(fcntl(41, F_GETFD));
    R(fcntl(40, F_GETFD));
    R(fcntl(fd, F_DUPFD, -1));
}

CASE(fcntl_getfl_setfl, "fcntl")
{
    int fd = MUST(open("f", O_CREAT | O_WRONLY | O_APPEND, 0644));
    R(fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK));
    R(fcntl(fd, F_SETFL, O_NONBLOCK));
    R(fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK));
    /* access mode bits cannot be changed by F_SETFL */
    R(fcntl(fd, F_SETFL, O_RDWR));
    R(fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK));
}

CASE(fcntl_cloexec_flag, "fcntl")
{
    int fd = MUST(open(".", O_RDONLY | O_CLOEXEC));
    R(fcntl(fd, F_GETFD));
    R(fcntl(fd, F_SETFD, 0));
    R(fcntl(fd, F_GETFD));
    R(fcntl(fd, 9999));
    R(fcntl(-1, F_GETFD));
}

CASE(fcntl_record_locks, "fcntl clone")
{
    int fd = MUST(open("f", O_CREAT | O_RDWR, 0644));
    MUST(ftruncate(fd, 100));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
    R(fcntl(fd, F_SETLK, &fl));
    pid_t pid = fork();
    if (pid == 0) {
        struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 10};
        R(fcntl(fd, F_GETLK, &q));
        out("  child sees lock type=%s start=%ld len=%ld\n",
            q.l_type == F_WRLCK ? "WRLCK" : q.l_type == F_UNLCK ? "UNLCK" : "?",
            (long)q.l_start, (long)q.l_len);
        R(fcntl(fd, F_SETLK, &q));
        struct flock r = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 20, .l_len = 5};
        R(fcntl(fd, F_SETLK, &r));
        _exit(0);
    }
    reap(pid);
}

CASE(fcntl_ofd_locks, "fcntl")
{
    int a = MUST(open("f", O_CREAT | O_RDWR, 0644));
    int b = MUST(open("f", O_RDWR));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    R(fcntl(a, F_OFD_SETLK, &fl));
    R(fcntl(b, F_OFD_SETLK, &fl));
    fl.l_type = F_UNLCK;
    R(fcntl(a, F_OFD_SETLK, &fl));
    fl.l_type = F_WRLCK;
    R(fcntl(b, F_OFD_SETLK, &fl));
}

CASE(fcntl_pipe_size, "fcntl pipe2")
{
    int p[2];
    MUST(pipe(p));
    R(fcntl(p[0], F_GETPIPE_SZ));
    R(fcntl(p[0], F_SETPIPE_SZ, 8192));
    R(fcntl(p[0], F_GETPIPE_SZ));
    put("f", "");
    int fd = MUST(open("f", O_RDONLY));
    R(fcntl(fd, F_GETPIPE_SZ));
}

CASE(ioctl_fionread_pipe, "ioctl")
{
    int p[2], n = -1;
    MUST(pipe(p));
    write(p[1], "12345", 5);
    R(ioctl(p[0], FIONREAD, &n));
    out("  n=%d\n", n);
    R(ioctl(p[0], 0x12345678, &n));
}

CASE(ioctl_fioclex, "ioctl")
{
    int fd = MUST(open(".", O_RDONLY));
    R(ioctl(fd, FIOCLEX));
    R(fcntl(fd, F_GETFD));
    R(ioctl(fd, FIONCLEX));
    R(fcntl(fd, F_GETFD));
}

CASE(ioctl_notty, "ioctl")
{
    struct winsize ws;
    put("f", "");
    int fd = MUST(open("f", O_RDONLY));
    R(ioctl(fd, TIOCGWINSZ, &ws));
    R(ioctl(-1, TIOCGWINSZ, &ws));
}

CASE(lseek_whence, "lseek")
{
    put("f", "0123456789");
    int fd = MUST(open("f", O_RDONLY));
    R(lseek(fd, 3, SEEK_SET));
    R(lseek(fd, 2, SEEK_CUR));
    R(lseek(fd, -1, SEEK_END));
    R(lseek(fd, 100, SEEK_SET));
    R(lseek(fd, -100, SEEK_CUR));
    R(lseek(fd, 0, 7));
}

CASE(lseek_data_hole, "lseek")
{
    int fd = MUST(open("f", O_CREAT | O_RDWR, 0644));
    write(fd, "x", 1);
    R(lseek(fd, 0, SEEK_DATA));
    R(lseek(fd, 0, SEEK_HOLE));
    R(lseek(fd, 5, SEEK_DATA));
}

CASE(lseek_espipe, "lseek")
{
    int p[2];
    MUST(pipe(p));
    R(lseek(p[0], 0, SEEK_SET));
    R(lseek(99, 0, SEEK_SET));
}

CASE(flock_exclusive, "flock")
{
    put("f", "");
    int a = MUST(open("f", O_RDONLY)), b = MUST(open("f", O_RDONLY));
    R(flock(a, LOCK_EX));
    R(flock(b, LOCK_EX | LOCK_NB));
    R(flock(b, LOCK_SH | LOCK_NB));
    R(flock(a, LOCK_UN));
    R(flock(b, LOCK_SH | LOCK_NB));
    R(flock(a, LOCK_SH | LOCK_NB));
    R(flock(a, 0));
}

CASE(kcmp_file, "kcmp")
{
    int a = MUST(open(".", O_RDONLY)), b = MUST(dup(a)), c = MUST(open(".", O_RDONLY));
    pid_t me = getpid();
    R(SC(SYS_kcmp, me, me, KCMP_FILE, a, b));
    R(SC(SYS_kcmp, me, me, KCMP_FILE, a, c) != 0);
}
