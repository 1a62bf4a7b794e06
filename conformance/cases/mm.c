/* mm family: mmap/munmap/mprotect/mremap, brk, msync, mincore, madvise, mlock. */
#include "common.h"

#define PG 4096

/* Run fn in a child and report whether it faulted. */
static void in_child(const char *what, void (*fn)(void *), void *arg)
{
    pid_t pid = fork();
    if (pid == 0) {
        fn(arg);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    show_status(what, st);
}

static void touch_write(void *p) { *(volatile char *)p = 1; }
static void touch_read(void *p) { (void)*(volatile char *)p; }

CASE(mmap_anonymous_zeroed, "mmap munmap")
{
    char *p = RP(mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    out("  zero=%d\n", p[0] == 0 && p[2 * PG - 1] == 0);
    p[10] = 'x';
    out("  wrote=%c\n", p[10]);
    R(munmap(p, 2 * PG));
}

CASE(mmap_errors, "mmap")
{
    RP(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    RP(mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0));
    RP(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, -1, 0));
    RP(mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1));
    int wo = MUST(open("w", O_CREAT | O_WRONLY, 0644));
    RP(mmap(NULL, PG, PROT_READ, MAP_SHARED, wo, 0));
}

CASE(mmap_file_shared_write, "mmap msync")
{
    put("f", "hello mmap");
    int fd = MUST(open("f", O_RDWR));
    char *p = RP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    out("  mapped=%.10s\n", p);
    memcpy(p, "HELLO", 5);
    R(msync(p, PG, MS_SYNC));
    R(msync(p + 1, PG, MS_SYNC));
    munmap(p, PG);
    show_file("f");
}

CASE(mmap_file_private_cow, "mmap")
{
    put("f", "original");
    int fd = MUST(open("f", O_RDWR));
    char *p = RP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
    memcpy(p, "CHANGED", 7);
    out("  mapping=%.8s\n", p);
    munmap(p, PG);
    show_file("f");
}

CASE(mmap_fixed_replaces, "mmap")
{
    char *p = RP(mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    p[PG] = 'a';
    char *q = RP(mmap(p + PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    out("  same_addr=%d zeroed=%d\n", q == p + PG, q[0] == 0);
    char *r = RP(mmap(p, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
    (void)r;
}

CASE(mmap_beyond_eof_sigbus, "mmap")
{
    put("f", "short");
    int fd = MUST(open("f", O_RDONLY));
    char *p = RP(mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 0));
    in_child("read first page", touch_read, p);
    in_child("read second page", touch_read, p + PG);
}

CASE(munmap_errors, "munmap")
{
    char *p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    R(munmap(p + 1, PG));
    R(munmap(p, 0));
    R(munmap(p, PG));
    R(munmap(p, PG));
    in_child("touch unmapped", touch_read, p);
}

CASE(mprotect_readonly_faults, "mprotect")
{
    char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    R(mprotect(p, PG, PROT_READ));
    in_child("write after PROT_READ", touch_write, p);
    in_child("read after PROT_READ", touch_read, p);
    R(mprotect(p, PG, PROT_NONE));
    in_child("read after PROT_NONE", touch_read, p);
    R(mprotect(p + 1, PG, PROT_READ));
    R(mprotect(p, PG, 0x100));
}

CASE(mprotect_file_readonly_mapping, "mprotect")
{
    put("f", "x");
    int fd = MUST(open("f", O_RDONLY));
    char *p = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
    R(mprotect(p, PG, PROT_READ | PROT_WRITE));
    char *q = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
    R(mprotect(q, PG, PROT_READ | PROT_WRITE));
}

CASE(brk_grow_shrink, "brk")
{
    long cur = SC(SYS_brk, 0);
    long grown = SC(SYS_brk, cur + 64 * PG);
    out("brk grow by 64 pages: %d\n", grown == cur + 64 * PG);
    ((char *)cur)[10] = 5;
    long shrunk = SC(SYS_brk, cur);
    out("brk shrink back: %d\n", shrunk == cur);
    long bad = SC(SYS_brk, 1);
    out("brk(1) leaves break unchanged: %d\n", bad == cur);
}

CASE(mremap_grow_move, "mremap")
{
    char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(p, "kept");
    char *q = RP(mremap(p, PG, 4 * PG, MREMAP_MAYMOVE));
    out("  content=%s\n", q);
    RP(mremap(q, 4 * PG, 2 * PG, 0));
    RP(mremap(q, 2 * PG, 2 * PG, 0x100));
    RP(mremap(q + 1, PG, PG, 0));
}

CASE(msync_errors, "msync")
{
    char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    R(msync(p, PG, MS_ASYNC));
    R(msync(p, PG, MS_SYNC | MS_ASYNC));
    munmap(p, PG);
    R(msync(p, PG, MS_SYNC));
}

CASE(mincore_resident, "mincore")
{
    char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[0] = 1;
    unsigned char vec[2];
    R(mincore(p, 2 * PG, vec));
    out("  first_resident=%d\n", vec[0] & 1);
    R(mincore(p + 1, PG, vec));
    munmap(p, 2 * PG);
    R(mincore(p, PG, vec));
}

CASE(madvise_dontneed_zeroes, "madvise")
{
    char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[0] = 42;
    R(madvise(p, PG, MADV_DONTNEED));
    out("  after DONTNEED=%d\n", p[0]);
    R(madvise(p, PG, MADV_WILLNEED));
    R(madvise(p, PG, 12345));
    R(madvise(p + 1, PG, MADV_NORMAL));
}

CASE(mlock_munlock, "mlock munlock")
{
    char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    R(mlock(p, PG));
    R(munlock(p, PG));
    munmap(p, PG);
    R(mlock(p, PG));
}

CASE(mlock2_onfault, "mlock2")
{
    char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    R(SC(SYS_mlock2, p, PG, 1 /* MLOCK_ONFAULT */));
    R(SC(SYS_mlock2, p, PG, 0x8));
    munlock(p, PG);
}

CASE(mlockall_munlockall, "mlockall munlockall")
{
    R(mlockall(MCL_CURRENT | MCL_ONFAULT));
    R(munlockall());
    R(mlockall(0));
    R(mlockall(0x100));
}

CASE(membarrier_query, "membarrier")
{
    long r = SC(SYS_membarrier, 0 /* CMD_QUERY */, 0, 0);
    out("membarrier(QUERY) ok=%d global=%ld\n", r >= 0, r & 1);
    R(SC(SYS_membarrier, 1234, 0, 0));
}

CASE(mmap_shared_anon_fork, "mmap clone")
{
    int *shared = RP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    int *priv = RP(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    pid_t pid = fork();
    if (pid == 0) {
        *shared = 7;
        *priv = 7;
        _exit(0);
    }
    reap(pid);
    out("  shared=%d private=%d\n", *shared, *priv);
}
