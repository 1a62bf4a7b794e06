/* memfd family: memfd_create, seals, and the descriptor's behaviour. */
#include "common.h"

// normalise: memfd:([\w-]+) \(deleted\) => memfd:\1 (deleted)

CASE(memfd_create_rw, "memfd_create")
{
    int fd = R(memfd_create("conf", 0));
    R(write(fd, "memory", 6));
    char buf[8] = {0};
    R(pread(fd, buf, 6, 0));
    out("  %s\n", buf);
    struct stat st;
    fstat(fd, &st);
    show_stat_buf("fstat", &st);
}

CASE(memfd_create_flags, "memfd_create")
{
    int fd = R(memfd_create("c", MFD_CLOEXEC));
    R(fcntl(fd, F_GETFD));
    R(memfd_create("bad", 0x100));
    char longname[300];
    memset(longname, 'n', sizeof longname);
    longname[299] = 0;
    R(memfd_create(longname, 0));
}

CASE(memfd_create_seals, "memfd_create fcntl")
{
    int fd = R(memfd_create("sealed", MFD_ALLOW_SEALING));
    write(fd, "abc", 3);
    R(fcntl(fd, F_GET_SEALS));
    R(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW));
    R(fcntl(fd, F_GET_SEALS));
    R(write(fd, "x", 1));
    R(ftruncate(fd, 1));
    R(ftruncate(fd, 100));
    R(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
    R(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
}

CASE(memfd_create_no_sealing, "memfd_create")
{
    int fd = MUST(memfd_create("plain", 0));
    R(fcntl(fd, F_GET_SEALS));
    R(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
}

CASE(memfd_create_mmap_shared, "memfd_create mmap")
{
    int fd = MUST(memfd_create("map", 0));
    MUST(ftruncate(fd, 4096));
    char *p = RP(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    strcpy(p, "through mapping");
    char buf[32] = {0};
    R(pread(fd, buf, 15, 0));
    out("  %s\n", buf);
}

CASE(memfd_create_proc_link, "memfd_create readlink")
{
    int fd = MUST(memfd_create("named-memfd", 0));
    char link[64], buf[128] = {0};
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    R(readlink(link, buf, sizeof buf) > 0);
    out("  %s\n", buf);
}

CASE(memfd_create_reopen_proc_fd, "memfd_create open stat")
{
    int fd = MUST(memfd_create("reopened", 0));
    MUST(write(fd, "memory", 6));
    char link[64], buf[8] = {0};
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    struct stat st;
    R(stat(link, &st));
    out("  size %ld\n", (long)st.st_size);
    int again = R(open(link, O_RDONLY));
    R(read(again, buf, 6));
    out("  %s\n", buf);
    snprintf(link, sizeof link, "/dev/fd/%d", fd);
    R(open(link, O_WRONLY | O_APPEND));
}

CASE(memfd_create_seal_write_mmap, "memfd_create mmap")
{
    int fd = MUST(memfd_create("sw", MFD_ALLOW_SEALING));
    MUST(ftruncate(fd, 4096));
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    R(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    munmap(p, 4096);
    R(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    RP(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    RP(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0));
}

CASE(memfd_create_exec_via_fd, "memfd_create execveat")
{
    int fd = MUST(memfd_create("sh-copy", MFD_CLOEXEC));
    put("s", "#!/bin/sh\necho memfd script\n");
    int src = MUST(open("s", O_RDONLY));
    char buf[64];
    long n = read(src, buf, sizeof buf);
    write(fd, buf, n);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"s", NULL};
        SC(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
        out("execveat: %s\n", errname(errno));
        _exit(1);
    }
    reap(pid);
}
