/* A root process drops capabilities with capset(2), then uses the filesystem.
 * usage: dropcaps CAPNUM[,CAPNUM...]|none FILE_OWNED_BY_OTHERS DIR
 * Prints one line per operation: "name ok" or "name ERRNO". */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *name, int ret) {
    if (ret < 0) printf("%s %s\n", name, strerror(errno));
    else printf("%s ok\n", name);
}

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) < 0) { perror("capget"); return 2; }
    if (strcmp(argv[1], "none") != 0) {
        char *list = strdup(argv[1]);
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            int cap = atoi(tok);
            data[cap / 32].effective &= ~(1u << (cap % 32));
        }
        if (syscall(SYS_capset, &hdr, data) < 0) { perror("capset"); return 2; }
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/made", argv[3]);
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    report("create", fd);
    if (fd >= 0) close(fd);
    report("chown", chown(path, 4321, 4321));
    fd = open(argv[2], O_RDONLY);               /* mode 0600, owned by uid 1234 */
    report("open_others", fd);
    if (fd >= 0) close(fd);
    report("chmod_others", chmod(argv[2], 0640));
    unlink(path);
    /* another user after it: must not inherit the server's capabilities either way */
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0) _exit(3);
        fd = open(argv[2], O_RDONLY);
        report("nobody_open_others", fd);
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 4;
}
