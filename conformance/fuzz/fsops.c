/* Executes a script of filesystem operations and prints every result, then the tree.
 *
 *   fsops SCRIPT DIR      run SCRIPT's operations with DIR as the working directory
 *
 * One operation per line, words separated by spaces; SLOT is a small descriptor table
 * index so scripts never depend on fd numbers.  Used by the differential fuzzer
 * (conformance/fsfuzz.py): the same script runs natively and inside the sandbox. */
#define CONFORMANCE_NO_MAIN
#include "common.h"

static int slots[8] = {-1, -1, -1, -1, -1, -1, -1, -1};

static void result(int n, const char *line, long r)
{
    if (r < 0)
        out("%d: %s = -1 %s\n", n, line, errname(errno));
    else
        out("%d: %s = %ld\n", n, line, r);
}

static int slot_fd(const char *s) { return slots[atoi(s) & 7]; }

static long do_getdents(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    char buf[4096];
    long total = 0, got;
    while ((got = SC(SYS_getdents64, fd, buf, sizeof buf)) > 0)
        for (long off = 0; off < got; off += ((struct dirent64 *)(buf + off))->d_reclen)
            total++;
    close(fd);
    return got < 0 ? -1 : total;
}

static long run_op(char **w, int nw)
{
    const char *op = w[0];
    if (!strcmp(op, "open") && nw == 5) {
        long fd = open(w[2], (int)strtol(w[3], NULL, 0), (mode_t)strtol(w[4], NULL, 8));
        if (fd >= 0) {
            int s = atoi(w[1]) & 7;
            if (slots[s] >= 0)
                close(slots[s]);
            slots[s] = fd;
            return s;
        }
        return fd;
    }
    if (!strcmp(op, "creat") && nw == 4) {
        long fd = SC(SYS_creat, w[2], (mode_t)strtol(w[3], NULL, 8));
        if (fd >= 0) {
            int s = atoi(w[1]) & 7;
            if (slots[s] >= 0)
                close(slots[s]);
            slots[s] = fd;
            return s;
        }
        return fd;
    }
    if (!strcmp(op, "close") && nw == 2) {
        int s = atoi(w[1]) & 7;
        long r = close(slots[s]);
        slots[s] = -1;
        return r;
    }
    if (!strcmp(op, "write") && nw == 3)
        return write(slot_fd(w[1]), w[2], strlen(w[2]));
    if (!strcmp(op, "read") && nw == 3) {
        char buf[512];
        long r = read(slot_fd(w[1]), buf, atoi(w[2]) % sizeof buf);
        if (r > 0)
            out("   data=\"%.*s\"\n", (int)r, buf);
        return r;
    }
    if (!strcmp(op, "lseek") && nw == 4)
        return lseek(slot_fd(w[1]), atol(w[2]), atoi(w[3]));
    if (!strcmp(op, "rename") && nw == 3)
        return rename(w[1], w[2]);
    if (!strcmp(op, "link") && nw == 3)
        return link(w[1], w[2]);
    if (!strcmp(op, "symlink") && nw == 3)
        return symlink(w[1], w[2]);
    if (!strcmp(op, "unlink") && nw == 2)
        return unlink(w[1]);
    if (!strcmp(op, "mkdir") && nw == 3)
        return mkdir(w[1], (mode_t)strtol(w[2], NULL, 8));
    if (!strcmp(op, "rmdir") && nw == 2)
        return rmdir(w[1]);
    if (!strcmp(op, "chmod") && nw == 3)
        return chmod(w[1], (mode_t)strtol(w[2], NULL, 8));
    if (!strcmp(op, "truncate") && nw == 3)
        return truncate(w[1], atol(w[2]));
    if (!strcmp(op, "getdents") && nw == 2)
        return do_getdents(w[1]);
    if (!strcmp(op, "statx") && nw == 3) {
        struct statx sx;
        long r = statx(AT_FDCWD, w[1], atoi(w[2]) ? AT_SYMLINK_NOFOLLOW : 0, STATX_BASIC_STATS, &sx);
        if (r == 0)
            out("   %s mode=%04o size=%llu nlink=%u\n", ftype(sx.stx_mode), sx.stx_mode & 07777,
                (unsigned long long)sx.stx_size, sx.stx_nlink);
        return r;
    }
    errno = EINVAL;
    return -1;
}

/* Every entry under path, sorted, with its type, mode, size, links and content. */
static void tree(const char *path)
{
    char *names[256];
    int n = 0;
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp);
    for (int i = 0; i < n; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", path, names[i]);
        struct stat st;
        if (lstat(p, &st) < 0)
            continue;
        out("tree %s %s mode=%04o nlink=%lu", p, ftype(st.st_mode), st.st_mode & 07777,
            (unsigned long)st.st_nlink);
        if (S_ISREG(st.st_mode)) {
            char buf[128] = {0};
            int fd = open(p, O_RDONLY);
            long r = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
            if (fd >= 0)
                close(fd);
            for (long k = 0; k < r; k++)
                if (buf[k] == 0)
                    buf[k] = '.';
            out(" size=%lld data=\"%s\"", (long long)st.st_size, r > 0 ? buf : "");
        } else if (S_ISLNK(st.st_mode)) {
            char t[PATH_MAX] = {0};
            readlink(p, t, sizeof t - 1);
            out(" -> %s", t);
        }
        out("\n");
        if (S_ISDIR(st.st_mode))
            tree(p);
        free(names[i]);
    }
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc != 3) {
        fprintf(stderr, "usage: fsops SCRIPT DIR\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f || chdir(argv[2]) < 0) {
        fprintf(stderr, "fsops: cannot open %s or enter %s\n", argv[1], argv[2]);
        return 2;
    }
    umask(022);
    char line[512];
    for (int n = 1; fgets(line, sizeof line, f); n++) {
        line[strcspn(line, "\n")] = 0;
        char copy[512], *w[8];
        int nw = 0;
        strcpy(copy, line);
        for (char *tok = strtok(copy, " "); tok && nw < 8; tok = strtok(NULL, " "))
            w[nw++] = tok;
        if (nw == 0)
            continue;
        errno = 0;
        result(n, line, run_op(w, nw));
    }
    tree(".");
    return 0;
}
