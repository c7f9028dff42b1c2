/* A consumer stopped while it joins its group must exit cleanly.
 *
 * librdkafka before 2.3.0 aborts in rd_kafka_destroy when a
 * cooperative-sticky consumer is destroyed between its JoinGroup response
 * and its first SyncGroup response (assertion `assignor_state', librdkafka
 * issue #4312); kf_consumer (the worker's consumer) waits that window out
 * or keeps the handle (see await_assignor_state in kf_consumer.c). Here:
 * consumers of one group on the mock cluster, each stopped a few hundred
 * milliseconds after it subscribed, one after another (members that die
 * while joining also leave ghost leaders behind, which stretches the
 * window). Without the guard this process aborted within a few rounds at
 * each of these delays. Last, one consumer that runs long enough to be
 * assigned shows the group still works. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kf_consumer.h"
#include "kf_offsets.h"
#include "wk_fixture.h"

/* A kept handle is a deliberate leak (until exit): not LeakSanitizer's
 * business in this test. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "detect_leaks=0";
}

static void on_msg(void *opaque, rd_kafka_message_t *m) {
    (void)opaque;
    rd_kafka_message_destroy(m);
}

static kf_consumer_t *start(const wk_cluster_t *c, kf_offsets_t *o, const char *group) {
    static const char *const topics[] = {"close.in", NULL};
    kf_consumer_params_t p = kf_consumer_default_params();
    p.bootstrap = c->bootstrap;
    p.group = group;
    p.topics = topics;
    p.offsets = o;
    p.on_msg = on_msg;
    char e[256];
    kf_consumer_t *k = kf_consumer_new(&p, e, sizeof(e));
    WK_CHECK(k != NULL, "%s", e);
    return k;
}

int main(void) {
    wk_cluster_t c;
    wk_cluster_start(&c, 1);
    wk_topic(&c, "close.in", 4);
    static const int delays_ms[] = {300, 500, 800, 1200, 300, 500, 800, 1200, 400, 600, 1000, 1500};
    uint64_t joining = 0;
    for (size_t i = 0; i < sizeof(delays_ms) / sizeof(delays_ms[0]); i++) {
        kf_offsets_t *o = kf_offsets_new();
        kf_consumer_t *k = start(&c, o, "close-g");
        wk_sleep_ms(delays_ms[i]);
        int64_t t0 = wk_now_ms();
        kf_consumer_stop(k);
        WK_CHECK(kf_consumer_wait(k, 60000) == KF_OK, "round %zu: consumer did not close", i);
        kf_consumer_stats_t st = kf_consumer_stats(k);
        kf_consumer_free(k);
        kf_offsets_free(o);
        joining += st.closed_joining;
        printf("{\"round\":%zu,\"stop_after_ms\":%d,\"close_ms\":%lld,\"closed_joining\":%llu}\n",
               i, delays_ms[i], (long long)(wk_now_ms() - t0),
               (unsigned long long)st.closed_joining);
        fflush(stdout);
    }
    /* a member that stays is assigned normally (a fresh group: the mock
     * coordinator waits up to the rebalance timeout, 5 min, for the members
     * that died while joining to rejoin "close-g") */
    kf_offsets_t *o = kf_offsets_new();
    kf_consumer_t *k = start(&c, o, "close-g2");
    int64_t end = wk_now_ms() + 90000;
    while (kf_consumer_assigned(k) < 4 && wk_now_ms() < end)
        wk_sleep_ms(100);
    int64_t assigned = kf_consumer_assigned(k);
    kf_consumer_free(k);
    kf_offsets_free(o);
    WK_CHECK(assigned == 4, "last member has %lld of 4 partitions", (long long)assigned);
    printf("{\"rounds\":%zu,\"closed_joining\":%llu,\"last_member_partitions\":%lld}\n",
           sizeof(delays_ms) / sizeof(delays_ms[0]), (unsigned long long)joining,
           (long long)assigned);
    wk_cluster_stop(&c);
    return 0;
}
