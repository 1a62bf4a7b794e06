"""Builds sentry._native (cffi API mode) from sentry/native.c; setup.py runs it at
install time. Declarations here must match native.c."""

from pathlib import Path

from cffi import FFI

ffibuilder = FFI()
ffibuilder.cdef("""
    long sv_vm_read(int pid, unsigned long addr, char *buf, unsigned long size);
    long sv_vm_cstring(int pid, unsigned long addr, char *buf, unsigned long limit);
    long sv_vm_write(int pid, unsigned long addr, const char *buf, unsigned long size);
    int sv_id_valid(int listener, uint64_t id);
    int sv_openat2(int dirfd, const char *path, unsigned long long flags,
                   unsigned long long mode, unsigned long long resolve);
    int sv_fstatat(int dirfd, const char *path, char *buf, int flags);
    struct pollfd { int fd; short events; short revents; };
    struct sv_notif { uint64_t id; uint32_t pid; uint32_t flags; int32_t nr; uint32_t arch;
                      uint64_t ip; uint64_t args[6]; };
    int sv_step(int answer_fd, uint64_t id, int64_t val, int32_t error, uint32_t flags,
                struct pollfd *fds, int nfds, int nlisteners, int timeout,
                struct sv_notif *out, short *revents);
    int sv_addfd(int listener, uint64_t id, int srcfd, uint32_t newfd_flags, int tid,
                 int *pinned);
    int sched_getcpu(void);
""")
ffibuilder.set_source("sentry._native",
                      (Path(__file__).parent / "native.c").read_text(),
                      extra_compile_args=["-O2"])

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
