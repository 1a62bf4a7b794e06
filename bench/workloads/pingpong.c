/* pipe ping-pong between two processes: the parent writes one byte, the child echoes it
 * back incremented, N round trips.
 * usage: pingpong N   prints the number of round trips whose answer was right.
 * A second line, ns=T, is the loop's own time (CLOCK_MONOTONIC): a cross-check. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>
static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 0, ok = 0;
    int to_child[2], to_parent[2];
    if (pipe(to_child) || pipe(to_parent)) return 1;
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        unsigned char c;
        close(to_child[1]); close(to_parent[0]);
        while (read(to_child[0], &c, 1) == 1) {
            c++;
            if (write(to_parent[1], &c, 1) != 1) break;
        }
        _exit(0);
    }
    close(to_child[0]); close(to_parent[1]);
    long long t0 = now_ns();
    for (long i = 0; i < n; i++) {
        unsigned char c = (unsigned char)i, r;
        if (write(to_child[1], &c, 1) != 1 || read(to_parent[0], &r, 1) != 1) break;
        ok += r == (unsigned char)(c + 1);
    }
    long long t1 = now_ns();
    close(to_child[1]);
    int status;
    waitpid(pid, &status, 0);
    printf("%ld\nns=%lld\n", ok, t1 - t0);
    return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
