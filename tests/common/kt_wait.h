/* Test helpers: a monotonic millisecond clock and a bounded wait for a
 * counter that other threads raise under a mutex. Test code only. */
#ifndef KT_WAIT_H
#define KT_WAIT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

static inline int64_t kt_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 once *count (read under mu) reaches n, 0 after timeout_ms. */
static inline int kt_wait_count(pthread_mutex_t *mu, const int *count, int n, int timeout_ms) {
    int64_t end = kt_now_ms() + timeout_ms;
    struct timespec ts = {0, 1000000};
    for (;;) {
        pthread_mutex_lock(mu);
        int d = *count;
        pthread_mutex_unlock(mu);
        if (d >= n)
            return 1;
        if (kt_now_ms() > end)
            return 0;
        nanosleep(&ts, NULL);
    }
}

#endif
