/* Calls each refused syscall and prints its name and errno name. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *ename(int e) {
    switch (e) {
    case EPERM: return "EPERM"; case ENOSYS: return "ENOSYS"; case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL"; case EBADF: return "EBADF"; case ENOENT: return "ENOENT";
    default: return "OTHER";
    }
}

#define TRY(name, ...) do { errno = 0; long r = syscall(__VA_ARGS__); \
    printf("%s %ld %s\n", name, r, r == -1 ? ename(errno) : "-"); } while (0)

int main(void) {
    TRY("ptrace", SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
    TRY("mount", SYS_mount, "none", "/tmp", "tmpfs", 0, 0);
    TRY("umount2", SYS_umount2, "/proc", 2);
    TRY("pivot_root", SYS_pivot_root, "/tmp", "/tmp");
    TRY("unshare", SYS_unshare, 0x00020000);
    TRY("setns", SYS_setns, 0, 0);
    TRY("bpf", SYS_bpf, 0, 0, 0);
    TRY("io_uring_setup", SYS_io_uring_setup, 1, 0);
    TRY("kexec_load", SYS_kexec_load, 0, 0, 0, 0);
    TRY("init_module", SYS_init_module, 0, 0, "");
    TRY("perf_event_open", SYS_perf_event_open, 0, 0, -1, -1, 0);
    TRY("keyctl", SYS_keyctl, 0, 0, 0, 0, 0);
    TRY("userfaultfd", SYS_userfaultfd, 0);
    TRY("open_by_handle_at", SYS_open_by_handle_at, -100, 0, 0);
    TRY("clone_newuser", SYS_clone, 0x10000000 | 17, 0, 0, 0, 0);
    return 0;
}
