/* getppid loop: the cost of a syscall the sandbox lets run on the host.
 * usage: getppid N   prints the number of calls that returned the parent's pid.
 * A second line, ns=T, is the loop's own time (CLOCK_MONOTONIC): a cross-check. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>
static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 0, ok = 0;
    long want = syscall(SYS_getppid);
    long long t0 = now_ns();
    for (long i = 0; i < n; i++)
        ok += syscall(SYS_getppid) == want;   /* no libc caching: a real syscall each time */
    long long t1 = now_ns();
    printf("%ld\nns=%lld\n", ok, t1 - t0);
    return 0;
}
