/* 200 threads in syscalls: NTHREADS pthreads, all alive at once (a barrier), each doing
 * K iterations of one trapped syscall, umask(022) (emulated by the sentry, as in noop.c),
 * and one host syscall, getppid. Every result is checked and every call is timed on its
 * own (CLOCK_MONOTONIC, a vDSO call, not a syscall).
 * usage: threads NTHREADS K   prints
 *   threads=T distinct=D trapped_ok=A host_ok=B   (T distinct tids; A = B = T*K when right)
 *   trapped_p50_ns=.. trapped_p99_ns=.. trapped_max_ns=..
 *   host_p50_ns=.. host_p99_ns=.. host_max_ns=..
 *   ns=N   from the barrier to the last thread's end (the loops' own time) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct worker {
    pthread_t thread;
    long tid, trapped_ok, host_ok;
    long long *trapped, *host;      /* K latencies each, in ns */
};

static long k_iter, want_ppid;
static pthread_barrier_t start;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *work(void *arg) {
    struct worker *w = arg;
    w->tid = syscall(SYS_gettid);
    pthread_barrier_wait(&start);
    for (long i = 0; i < k_iter; i++) {
        long long t0 = now_ns();
        /* every thread sets 022, so the old mask is 022 whatever the interleaving */
        long old = syscall(SYS_umask, 022);
        long long t1 = now_ns();
        long ppid = syscall(SYS_getppid);     /* no libc caching: a real syscall */
        long long t2 = now_ns();
        w->trapped_ok += old == 022;
        w->host_ok += ppid == want_ppid;
        w->trapped[i] = t1 - t0;
        w->host[i] = t2 - t1;
    }
    return NULL;
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* nearest rank: the smallest value with at least Q of the values at or below it */
static long long rank(const long long *sorted, long n, double q) {
    long i = (long)(q * n + 0.999999) - 1;
    return sorted[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}

static void report(const char *name, struct worker *ws, long nthreads, int host) {
    long n = nthreads * k_iter;
    long long *all = malloc(sizeof(*all) * (n ? n : 1));
    if (!all) { perror("malloc"); exit(1); }
    for (long t = 0; t < nthreads; t++)
        for (long i = 0; i < k_iter; i++)
            all[t * k_iter + i] = host ? ws[t].host[i] : ws[t].trapped[i];
    qsort(all, n, sizeof(*all), cmp_ll);
    if (n)
        printf("%s_p50_ns=%lld %s_p99_ns=%lld %s_max_ns=%lld\n", name, rank(all, n, 0.5),
               name, rank(all, n, 0.99), name, all[n - 1]);
    else
        printf("%s_p50_ns=0 %s_p99_ns=0 %s_max_ns=0\n", name, name, name);
    free(all);
}

int main(int argc, char **argv) {
    long nthreads = argc > 1 ? atol(argv[1]) : 0;
    k_iter = argc > 2 ? atol(argv[2]) : 0;
    if (nthreads < 1 || k_iter < 0) {
        fprintf(stderr, "usage: threads NTHREADS K\n");
        return 2;
    }
    want_ppid = syscall(SYS_getppid);
    syscall(SYS_umask, 022);
    struct worker *ws = calloc(nthreads, sizeof(*ws));
    if (!ws) { perror("calloc"); return 1; }
    pthread_barrier_init(&start, NULL, nthreads + 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);   /* 200 x 8 MiB stacks are not needed */
    for (long t = 0; t < nthreads; t++) {
        ws[t].trapped = calloc(k_iter ? k_iter : 1, sizeof(long long));
        ws[t].host = calloc(k_iter ? k_iter : 1, sizeof(long long));
        if (!ws[t].trapped || !ws[t].host) { perror("calloc"); return 1; }
        int err = pthread_create(&ws[t].thread, &attr, work, &ws[t]);
        if (err) {
            fprintf(stderr, "pthread_create %ld: error %d\n", t, err);
            return 1;
        }
    }
    pthread_barrier_wait(&start);
    long long t0 = now_ns();
    for (long t = 0; t < nthreads; t++)
        pthread_join(ws[t].thread, NULL);
    long long t1 = now_ns();

    long trapped_ok = 0, host_ok = 0, distinct = 0;
    long *tids = malloc(sizeof(long) * nthreads);
    if (!tids) { perror("malloc"); return 1; }
    for (long t = 0; t < nthreads; t++) {
        trapped_ok += ws[t].trapped_ok;
        host_ok += ws[t].host_ok;
        tids[t] = ws[t].tid;
    }
    /* count distinct tids (quadratic, but 200 threads): every thread was a real one */
    for (long t = 0; t < nthreads; t++) {
        int seen = tids[t] <= 0 || tids[t] == getpid();
        for (long u = 0; u < t && !seen; u++)
            seen = tids[u] == tids[t];
        distinct += !seen;
    }
    printf("threads=%ld distinct=%ld trapped_ok=%ld host_ok=%ld\n", nthreads, distinct,
           trapped_ok, host_ok);
    report("trapped", ws, nthreads, 0);
    report("host", ws, nthreads, 1);
    printf("ns=%lld\n", t1 - t0);
    return 0;
}
