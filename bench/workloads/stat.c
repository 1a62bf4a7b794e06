/* stat loop on a path of 4 components (e.g. /usr/share/common-licenses/GPL-3).
 * usage: stat N PATH   prints the number of stats that succeeded with the size of the
 * first one (the driver checks both).
 * A second line, ns=T, is the loop's own time (CLOCK_MONOTONIC): a cross-check. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 0, ok = 0;
    const char *path = argc > 2 ? argv[2] : "/usr/share/common-licenses/GPL-3";
    struct stat st, first;
    if (stat(path, &first) != 0) { printf("0 -1\n"); return 1; }
    long long t0 = now_ns();
    for (long i = 0; i < n; i++)
        ok += stat(path, &st) == 0 && st.st_size == first.st_size && st.st_ino == first.st_ino;
    long long t1 = now_ns();
    printf("%ld %lld\nns=%lld\n", ok, (long long)first.st_size, t1 - t0);
    return 0;
}
