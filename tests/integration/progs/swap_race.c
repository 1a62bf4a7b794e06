/* One thread keeps swapping "link" between a file inside and escape attempts;
   the main thread opens "link" many times. Prints what it read, by kind. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *escape;
static volatile int stop;

static void *swapper(void *arg) {
    (void)arg;
    for (int i = 0; !stop; i++) {
        symlink(i % 2 ? escape : "inside.txt", "link.tmp");
        rename("link.tmp", "link");
    }
    return NULL;
}

int main(int argc, char **argv) {
    escape = argv[1];
    int inside = 0, other = 0, failed = 0;
    FILE *f = fopen("inside.txt", "w");
    fputs("inside", f);
    fclose(f);
    pthread_t t;
    pthread_create(&t, NULL, swapper, NULL);
    for (int i = 0; i < atoi(argv[2]); i++) {
        char buf[64] = {0};
        int fd = open("link", O_RDONLY);
        if (fd < 0) { failed++; continue; }
        read(fd, buf, sizeof buf - 1);
        close(fd);
        if (strcmp(buf, "inside") == 0) inside++; else { other++; printf("READ: %s\n", buf); }
    }
    stop = 1;
    pthread_join(t, NULL);
    printf("inside=%d other=%d failed=%d\n", inside > 0, other, failed > 0);
    return 0;
}
