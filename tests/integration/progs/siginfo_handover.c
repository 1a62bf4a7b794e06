/* Signals with a value (sigqueue) arrive while the process opens files: each must reach
   its handler with the sender's siginfo (SI_QUEUE, the value), as natively. Under the
   ptrace platform most arrive while a descriptor is being handed over, and are held
   back until the hand-over ends. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got, bad;

static void handler(int signo, siginfo_t *si, void *ctx)
{
    (void)signo; (void)ctx;
    got++;
    if (si->si_code != SI_QUEUE || si->si_value.sival_int != 7)
        bad++;
}

int main(void)
{
    struct sigaction sa = {0};
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) {
        union sigval v = {.sival_int = 7};
        for (int i = 0; i < 3000; i++) {
            if (sigqueue(parent, SIGUSR1, v) < 0)
                break;
            usleep(50);
        }
        _exit(0);
    }
    while (waitpid(child, NULL, WNOHANG) == 0) {
        int fd = open("/etc/hostname", O_RDONLY);
        if (fd >= 0)
            close(fd);
    }
    printf("signals %s, wrong siginfo %d\n", got > 0 ? "received" : "none", (int)bad);
    return 0;
}
