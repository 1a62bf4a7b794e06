/* argv[1] = "i386": getpid through int $0x80; "x32": getpid with the x32 bit set. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
    long ret = 0;
    if (argc > 1 && strcmp(argv[1], "i386") == 0) {
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
    } else {
        ret = syscall(0x40000000 | SYS_getpid);
    }
    printf("survived %ld\n", ret);
    return 0;
}
