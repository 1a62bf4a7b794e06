/* sequential read of a file made by the driver: every 4 KiB block starts with its
 * index as a little-endian 64-bit number, so the reader can check what it got.
 * usage: readfile PATH BLOCKSIZE MAXBYTES   prints bytes read and blocks verified.
 * A second line, ns=T, is the loop's own time (CLOCK_MONOTONIC): a cross-check. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
int main(int argc, char **argv) {
    if (argc < 4) return 2;
    size_t bs = strtoul(argv[2], 0, 10);
    long long max = atoll(argv[3]), total = 0, verified = 0;
    char *buf = aligned_alloc(4096, bs);
    long long t0 = now_ns();
    int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0 || !buf) { printf("-1 -1\n"); return 1; }
    while (total < max) {
        ssize_t got = read(fd, buf, bs);
        if (got <= 0) break;
        for (ssize_t off = 0; off + 8 <= got; off += 4096) {
            uint64_t idx;
            memcpy(&idx, buf + off, 8);
            verified += idx == (uint64_t)((total + off) / 4096);
        }
        total += got;
    }
    close(fd);
    long long t1 = now_ns();
    printf("%lld %lld\nns=%lld\n", total, verified, t1 - t0);
    return 0;
}
