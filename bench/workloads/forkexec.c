/* fork+exec of a program N times, one after the other.
 * usage: forkexec N PROGRAM   prints the number of children that exited with status 0.
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
    char *prog = argc > 2 ? argv[2] : "/bin/true";
    long long t0 = now_ns();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) break;
        if (pid == 0) {
            char *args[] = {prog, 0};
            execv(prog, args);
            _exit(127);
        }
        int status;
        if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
            ok++;
    }
    long long t1 = now_ns();
    printf("%ld\nns=%lld\n", ok, t1 - t0);
    return 0;
}
