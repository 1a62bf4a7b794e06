/* futex family: wait/wake, timeouts, requeue, bitsets, PI, futex2. */
#include "common.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts,
                  uint32_t *uaddr2, uint32_t val3)
{
    return SC(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static uint32_t word;
static _Atomic int waiting;

static void *waiter(void *arg)
{
    (void)arg;
    atomic_fetch_add(&waiting, 1);
    futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    return NULL;
}

CASE(futex_wait_value_mismatch, "futex")
{
    uint32_t w = 1;
    R(futex(&w, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
}

CASE(futex_wait_timeout, "futex")
{
    uint32_t w = 0;
    struct timespec ts = {0, 10000000};
    R(futex(&w, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0));
    struct timespec bad = {0, -1};
    R(futex(&w, FUTEX_WAIT_PRIVATE, 0, &bad, NULL, 0));
}

CASE(futex_wake_nobody, "futex")
{
    uint32_t w = 0;
    R(futex(&w, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0));
    R(futex(&w, 99, 0, NULL, NULL, 0));
    R(futex(NULL, FUTEX_WAKE, 1, NULL, NULL, 0));
}

CASE(futex_wake_thread, "futex clone")
{
    pthread_t t;
    pthread_create(&t, NULL, waiter, NULL);
    while (atomic_load(&waiting) == 0)
        usleep(1000);
    long woken = 0;
    for (int i = 0; i < 1000 && woken == 0; i++) {
        usleep(1000);
        woken = futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
    pthread_join(t, NULL);
    out("woke one waiter: %d\n", woken == 1);
}

CASE(futex_shared_across_fork, "futex clone")
{
    uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t pid = fork();
    if (pid == 0) {
        while (__atomic_load_n(w, __ATOMIC_SEQ_CST) == 0)
            futex(w, FUTEX_WAIT, 0, NULL, NULL, 0);
        _exit(*w);
    }
    usleep(20000);
    __atomic_store_n(w, 9, __ATOMIC_SEQ_CST);
    futex(w, FUTEX_WAKE, 1, NULL, NULL, 0);
    reap(pid);
}

CASE(futex_cmp_requeue_mismatch, "futex")
{
    uint32_t a = 5, b = 0;
    R(futex(&a, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &b, 4));
    R(futex(&a, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &b, 5));
}

CASE(futex_wait_bitset_abs_timeout, "futex")
{
    uint32_t w = 0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    now.tv_nsec += 5000000;
    if (now.tv_nsec >= 1000000000) {
        now.tv_sec++;
        now.tv_nsec -= 1000000000;
    }
    R(futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 0, &now, NULL, FUTEX_BITSET_MATCH_ANY));
    R(futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 0, &now, NULL, 0));
    R(futex(&w, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0x1));
}

CASE(futex_wake_op, "futex")
{
    uint32_t a = 0, b = 1;
    R(futex(&a, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &b, FUTEX_OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_EQ, 1)));
    out("  b=%u\n", b);
}

CASE(futex_lock_pi_uncontended, "futex")
{
    uint32_t w = 0;
    R(futex(&w, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0));
    out("  owner==tid: %d\n", (w & FUTEX_TID_MASK) == (uint32_t)SC(SYS_gettid));
    R(futex(&w, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
    out("  word=%u\n", w);
    R(futex(&w, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
    R(futex(&w, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
}

CASE(futex_waitv_timeout, "futex_waitv")
{
    uint32_t w = 0;
    struct { uint64_t val, uaddr; uint32_t flags, reserved; } v = {0, (uintptr_t)&w, 2 | 128, 0};
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 5000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    long r = SC(SYS_futex_waitv, &v, 1, 0, &ts, CLOCK_MONOTONIC);
    out("futex_waitv = %s\n", r < 0 ? errname(errno) : "woken");
    v.val = 1;
    R(SC(SYS_futex_waitv, &v, 1, 0, &ts, CLOCK_MONOTONIC));
}

CASE(futex_wake_futex2, "futex_wake futex_wait")
{
    uint32_t w = 0;
    long r = SC(SYS_futex_wake, &w, ~0UL, 1, 2 | 128);
    if (r < 0 && errno == ENOSYS)
        SKIP("futex2 futex_wake needs Linux 6.7");
    out("futex_wake = %ld\n", r);
    R(SC(SYS_futex_wait, &w, 1, ~0UL, 2 | 128, NULL, 0));
}

CASE(futex_requeue_threads, "futex")
{
    /* Two waiters on `word`: requeue one to `other`, wake the rest. */
    static uint32_t other;
    word = 0;
    pthread_t t[2];
    atomic_store(&waiting, 0);
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, waiter, NULL);
    while (atomic_load(&waiting) < 2)
        usleep(1000);
    usleep(20000);
    long moved = futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &other, 0);
    long woke_other = 0;
    for (int i = 0; i < 200 && woke_other == 0; i++) {
        woke_other = futex(&other, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        usleep(1000);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    out("requeue woke+moved=%ld, woke on other=%ld\n", moved, woke_other);
}
