/* Reads lines "nr a0 a1 a2 a3 a4 a5" from stdin (all of them first, so stdin is at EOF
   before the first call) and issues each with syscall(2). An argument "pN" stands for
   the preset pointer N (see presets below); anything else is a number. Prints one line
   per call, then what every descriptor left open points at and the first bytes it reads. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAXCALLS 512

int main(int argc, char **argv) {
    const char *secret_rel = argc > 1 ? argv[1] : "nonexistent";
    long pg = sysconf(_SC_PAGESIZE);
    /* page 0-1: scratch buffers; page 2: PROT_NONE; a path straddling into it */
    char *m = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(m + 2 * pg, pg, PROT_NONE);
    memset(m + pg, 'x', pg);
    memcpy(m + 2 * pg - 5, "/tmp/", 5);
    /* the writable presets each in their own pages with a guard page after them, and
       the plan far from them: a wild write by a call cannot rewrite the calls to come */
    char *g = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(g + pg, pg, PROT_NONE);
    mprotect(g + 5 * pg, pg, PROT_NONE);
    char *escape = g, *longpath = g + 2 * pg;
    size_t longpath_size = 3 * pg;
    snprintf(escape, pg, "../../../../../../../../%s", secret_rel);
    memset(longpath, 'a', longpath_size - 1);
    mkdir("/tmp/fz", 0777);
    close(open("/tmp/fz/file", O_CREAT | O_WRONLY, 0644));
    symlink("/tmp/fz/file", "/tmp/fz/link");
    symlink(escape, "/tmp/fz/esc");
    void *presets[] = {
        "/tmp/fz/file", "/tmp/fz", "/tmp/fz/link", "/tmp/fz/esc", escape,
        "/proc/self/fd/0", "/proc/1/root", longpath, m + 2 * pg - 5, m,
        "\xff\xfe/../..", "/tmp/fz/new", "", m + 2 * pg, "user.x", "/proc/1/mem",
    };
    int npresets = sizeof presets / sizeof *presets;
    long (*calls)[7] = mmap(NULL, sizeof(long[MAXCALLS][7]), PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int n = 0;
    char line[1024];
    while (n < MAXCALLS && fgets(line, sizeof line, stdin)) {
        char *tok = strtok(line, " \n");
        int k = 0;
        while (tok && k < 7) {
            if (tok[0] == 'p') {
                int i = atoi(tok + 1);
                calls[n][k++] = (long)presets[i % npresets];
            } else {
                calls[n][k++] = strtol(tok, NULL, 0);
            }
            tok = strtok(NULL, " \n");
        }
        if (k) n++;
    }
    for (int i = 0; i < n; i++) {
        memset(m, 0, 64);
        strcpy(m, "/tmp/fz/file");  /* m[0..] also a path for "p9" */
        long r = syscall(calls[i][0], calls[i][1], calls[i][2], calls[i][3], calls[i][4],
                         calls[i][5], calls[i][6]);
        printf("call %ld -> %ld %d\n", calls[i][0], r, r < 0 ? errno : 0);
        fflush(stdout);
    }
    char path[64], buf[4096];
    for (int fd = 0; fd < 1024; fd++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t l = readlink(path, buf, sizeof buf - 1);
        if (l < 0) continue;
        buf[l] = 0;
        printf("fd %d -> %s\n", fd, buf);
        if (fd > 2) {
            ssize_t r = pread(fd, buf, 200, 0);
            if (r > 0) { buf[r] = 0; for (ssize_t j = 0; j < r; j++) if (buf[j] < 32) buf[j] = '.';
                printf("fd %d data %s\n", fd, buf); }
        }
    }
    printf("fuzz done %d\n", n);
    return 0;
}
