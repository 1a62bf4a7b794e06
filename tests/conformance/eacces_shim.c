/* A deliberately wrong "sandbox": every open/openat through libc fails with EACCES.
 * Loaded with LD_PRELOAD by tests/conformance/test_wrong_target.py. */
#define _GNU_SOURCE
#include <errno.h>

int open(const char *path, int flags, ...) { (void)path; (void)flags; errno = EACCES; return -1; }
int open64(const char *path, int flags, ...) { (void)path; (void)flags; errno = EACCES; return -1; }
int openat(int dirfd, const char *path, int flags, ...)
{
    (void)dirfd; (void)path; (void)flags;
    errno = EACCES;
    return -1;
}
int openat64(int dirfd, const char *path, int flags, ...)
{
    (void)dirfd; (void)path; (void)flags;
    errno = EACCES;
    return -1;
}
