"""Builds sentry._native (cffi API mode) from sentry/native.c; setup.py runs it at
install time. Declarations here must match native.c."""

from pathlib import Path

from cffi import FFI

ffibuilder = FFI()
ffibuilder.cdef("""
    long sv_vm_read(int pid, unsigned long addr, char *buf, unsigned long size);
    long sv_vm_cstring(int pid, unsigned long addr, char *buf, unsigned long limit);
    long sv_vm_write(int pid, unsigned long addr, const char *buf, unsigned long size);
    int sv_openat2(int dirfd, const char *path, unsigned long long flags,
                   unsigned long long mode, unsigned long long resolve);
    int sv_fstatat(int dirfd, const char *path, char *buf, int flags);
""")
ffibuilder.set_source("sentry._native",
                      (Path(__file__).parent / "native.c").read_text(),
                      extra_compile_args=["-O2"])

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
