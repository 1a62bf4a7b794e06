/* sandvisor's native helpers (cffi API mode, built by sentry/native_build.py).
 *
 * Only what every trapped syscall pays for: the unotify loop's answer-and-wait step,
 * reading the caller's path and writing results into its memory
 * (process_vm_readv/writev), openat2 and fstatat, injecting a descriptor. Each returns
 * a count, a descriptor or an index, or -errno; nothing here decides anything.
 * sentry/ffi.py falls back to ctypes (and sentry/platform/unotify.py to select.poll)
 * when this is not built. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
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

/* Whether notification id is still pending on listener: 0, or -errno (-ENOENT once
 * its caller is gone; its tid may then name another process). */
static int sv_id_valid(int listener, uint64_t id)
{
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0 ? -errno : 0;
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

/* One step of the unotify loop. First the previous answer, if any (SEND; a caller
 * that died meanwhile is not an error). Then the next event: descriptors still marked
 * ready by the last poll are taken (and unmarked) before polling again, so every
 * descriptor ready at one poll is served before any is served twice.
 * fds[0..nlisteners) are seccomp listeners: one readable is received into *out
 * (zeroed first, as RECV demands) and its index returned. Any other ready descriptor,
 * or a listener that only hung up, returns nfds + its index, with its poll events in
 * *revents. Returns -ETIMEDOUT after `timeout` ms without an event, -errno if poll
 * fails. With nfds 0 it only answers. */
struct sv_notif { uint64_t id; uint32_t pid; uint32_t flags; int32_t nr; uint32_t arch;
                  uint64_t ip; uint64_t args[6]; };

static int sv_step(int answer_fd, uint64_t id, int64_t val, int32_t error, uint32_t flags,
                   struct pollfd *fds, int nfds, int nlisteners, int timeout,
                   struct sv_notif *out, short *revents)
{
    if (answer_fd >= 0) {
        struct seccomp_notif_resp resp = { id, val, error, flags };
        ioctl(answer_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
    for (;;) {
        for (int i = 0; i < nfds; i++) {
            short ev = fds[i].revents;
            if (!ev)
                continue;
            fds[i].revents = 0;
            if (i < nlisteners && (ev & POLLIN)) {
                memset(out, 0, sizeof *out);
                if (ioctl(fds[i].fd, SECCOMP_IOCTL_NOTIF_RECV, out) == 0)
                    return i;
                continue;   /* the caller died between poll and receive */
            }
            *revents = ev;
            return nfds + i;
        }
        if (nfds == 0)
            return -ETIMEDOUT;
        int n = poll(fds, nfds, timeout);
        if (n < 0)
            return -errno;
        if (n == 0)
            return -ETIMEDOUT;
    }
}

/* SECCOMP_IOCTL_NOTIF_ADDFD, with the caller held on this CPU while it installs the
 * descriptor. ADDFD wakes the caller with a plain wake-up (no SYNC_WAKE_UP), which
 * picks the other, idle CPU: on a VM whose idle vCPUs halt, that wake-up, and the one
 * back, cost ~20 us of an open (docs/BENCH.md). Allowed only this CPU, the caller runs
 * here as soon as the sentry sleeps in the ioctl. Its affinity is restored before the
 * answer, so the application's own code never runs under the narrowed mask; it is not
 * narrowed at all if the mask excludes this CPU or holds it alone, and it is restored
 * only if still narrowed (another thread may have set it meanwhile). *pinned, unless
 * NULL, says whether it was narrowed. Returns the caller's new descriptor, or -errno. */
static int sv_addfd(int listener, uint64_t id, int srcfd, uint32_t newfd_flags, int tid,
                    int *pinned)
{
    struct seccomp_notif_addfd req = { .id = id, .flags = 0, .srcfd = (uint32_t)srcfd,
                                       .newfd = 0, .newfd_flags = newfd_flags };
    cpu_set_t old, one, now;
    int cpu = sched_getcpu();
    int held = 0;
    if (cpu >= 0 && cpu < CPU_SETSIZE && sched_getaffinity(tid, sizeof old, &old) == 0
            && CPU_ISSET(cpu, &old) && CPU_COUNT(&old) > 1) {
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        held = sched_setaffinity(tid, sizeof one, &one) == 0;
    }
    int fd = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &req);
    int err = errno;
    if (held && sched_getaffinity(tid, sizeof now, &now) == 0 && CPU_EQUAL(&now, &one))
        sched_setaffinity(tid, sizeof old, &old);
    if (pinned)
        *pinned = held;
    return fd < 0 ? -err : fd;
}
