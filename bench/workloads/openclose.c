/* open+fstat+close loop on an existing file.
 * usage: openclose N PATH   prints the number of iterations where all three succeeded
 * and fstat saw a regular file.
 * A second line, ns=T, is the loop's own time (CLOCK_MONOTONIC): a cross-check. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>
static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 0, ok = 0;
    const char *path = argc > 2 ? argv[2] : "/etc/passwd";
    struct stat st;
    long long t0 = now_ns();
    for (long i = 0; i < n; i++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        int good = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
        ok += (close(fd) == 0) && good;
    }
    long long t1 = now_ns();
    printf("%ld\nns=%lld\n", ok, t1 - t0);
    return 0;
}
