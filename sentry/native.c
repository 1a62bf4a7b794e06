/* sandvisor's native helpers (cffi API mode, built by sentry/native_build.py).
 *
 * Only the calls every trapped path syscall makes: reading the caller's path and
 * writing results into its memory (process_vm_readv/writev), openat2 and fstatat.
 * Each returns a count or a descriptor, or -errno; nothing here decides anything.
 * sentry/ffi.py falls back to ctypes when this module is not built. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define SV_PAGE 4096UL

static long sv_vm_read(int pid, unsigned long addr, char *buf, unsigned long size)
{
    struct iovec local = { buf, size }, remote = { (void *)addr, size };
    long n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    return n < 0 ? -errno : n;
}

/* A NUL-terminated string at addr, read in page-bounded chunks (a string may end just
 * before unmapped memory), the first one short since most paths are. Returns its
 * length, -EFAULT when a chunk cannot be read, -ENAMETOOLONG when no NUL comes
 * within limit bytes. buf holds at least limit + SV_PAGE bytes. */
static long sv_vm_cstring(int pid, unsigned long addr, char *buf, unsigned long limit)
{
    unsigned long len = 0, chunk;
    int first = 1;
    if (addr == 0)
        return -EFAULT;
    while (len < limit) {
        chunk = SV_PAGE - (addr % SV_PAGE);
        if (first && chunk > 256)
            chunk = 256;
        first = 0;
        long n = sv_vm_read(pid, addr, buf + len, chunk);
        if (n <= 0)
            return -EFAULT;
        char *nul = memchr(buf + len, 0, n);
        if (nul) {
            len = nul - buf;
            return len >= limit ? -ENAMETOOLONG : (long)len;
        }
        len += n;
        addr += n;
    }
    return -ENAMETOOLONG;
}

static long sv_vm_write(int pid, unsigned long addr, const char *buf, unsigned long size)
{
    struct iovec local = { (void *)buf, size }, remote = { (void *)addr, size };
    long n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
    return n < 0 ? -errno : n;
}

struct sv_open_how { unsigned long long flags, mode, resolve; };

static int sv_openat2(int dirfd, const char *path, unsigned long long flags,
                      unsigned long long mode, unsigned long long resolve)
{
    struct sv_open_how how = { flags, mode, resolve };
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    return fd < 0 ? -errno : (int)fd;
}

static int sv_fstatat(int dirfd, const char *path, char *buf, int flags)
{
    return fstatat(dirfd, path, (struct stat *)buf, flags) < 0 ? -errno : 0;
}
