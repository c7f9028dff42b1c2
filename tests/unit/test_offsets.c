/* Unit tests for kf_offsets: out-of-order acks, collect/commit retry, drop,
 * restart on seek back, waiting for idle from another thread. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h> /* after the headers it needs */

#include "kf_offsets.h"

static void test_out_of_order_acks(void **state) {
    (void)state;
    kf_offsets_t *t = kf_offsets_new();
    assert_non_null(t);
    for (int64_t o = 10; o < 15; o++)
        assert_int_equal(kf_offsets_track(t, "in", 3, o), KF_OK);
    assert_int_equal(kf_offsets_inflight(t, "in", 3), 5);
    assert_int_equal(kf_offsets_committable(t, "in", 3), -1);
    assert_int_equal(kf_offsets_ack(t, "in", 3, 12), KF_OK);
    assert_int_equal(kf_offsets_ack(t, "in", 3, 11), KF_OK);
    assert_int_equal(kf_offsets_committable(t, "in", 3), -1); /* 10 pending */
    assert_int_equal(kf_offsets_ack(t, "in", 3, 10), KF_OK);
    assert_int_equal(kf_offsets_committable(t, "in", 3), 13);
    assert_int_equal(kf_offsets_inflight(t, "in", 3), 2);
    /* double ack and unknown offsets are reported, not counted */
    assert_int_equal(kf_offsets_ack(t, "in", 3, 12), KF_ERR_NOT_FOUND);
    assert_int_equal(kf_offsets_ack(t, "in", 3, 99), KF_ERR_NOT_FOUND);
    assert_int_equal(kf_offsets_ack(t, "in", 4, 13), KF_ERR_NOT_FOUND);
    assert_int_equal(kf_offsets_ack(t, "in", 3, 14), KF_OK);
    assert_int_equal(kf_offsets_committable(t, "in", 3), 13);
    assert_int_equal(kf_offsets_ack(t, "in", 3, 13), KF_OK);
    assert_int_equal(kf_offsets_committable(t, "in", 3), 15);
    assert_int_equal(kf_offsets_inflight(t, NULL, 0), 0);
    kf_offsets_free(t);
    kf_offsets_free(NULL);
}

static void test_gaps_and_growth(void **state) {
    (void)state;
    kf_offsets_t *t = kf_offsets_new();
    /* 1000 offsets with gaps (compaction, transaction markers), acked in a
     * scrambled order: the watermark only moves when the front is done. */
    int64_t offs[1000];
    for (int i = 0; i < 1000; i++) {
        offs[i] = (int64_t)i * 3;
        assert_int_equal(kf_offsets_track(t, "a", 0, offs[i]), KF_OK);
    }
    for (int i = 999; i >= 1; i--)
        assert_int_equal(kf_offsets_ack(t, "a", 0, offs[i]), KF_OK);
    assert_int_equal(kf_offsets_committable(t, "a", 0), -1);
    assert_int_equal(kf_offsets_ack(t, "a", 0, 0), KF_OK);
    assert_int_equal(kf_offsets_committable(t, "a", 0), 999 * 3 + 1);
    /* ring wrap-around: interleave track and ack */
    for (int64_t o = 5000; o < 5300; o++) {
        assert_int_equal(kf_offsets_track(t, "a", 0, o), KF_OK);
        if (o >= 5010)
            assert_int_equal(kf_offsets_ack(t, "a", 0, o - 10), KF_OK);
    }
    assert_int_equal(kf_offsets_committable(t, "a", 0), 5290);
    assert_int_equal(kf_offsets_inflight(t, "a", 0), 10);
    kf_offsets_free(t);
}

static void test_collect_and_commit_retry(void **state) {
    (void)state;
    kf_offsets_t *t = kf_offsets_new();
    assert_int_equal(kf_offsets_track(t, "x", 0, 0), KF_OK);
    assert_int_equal(kf_offsets_track(t, "x", 1, 7), KF_OK);
    assert_int_equal(kf_offsets_track(t, "y", 0, 2), KF_OK);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    assert_int_equal(kf_offsets_collect(t, NULL, l), 0); /* nothing done */
    assert_int_equal(kf_offsets_ack(t, "x", 1, 7), KF_OK);
    assert_int_equal(kf_offsets_ack(t, "y", 0, 2), KF_OK);
    assert_int_equal(kf_offsets_collect(t, NULL, l), 2);
    assert_int_equal(l->cnt, 2);
    /* handed out already: not again until it moves or the commit fails */
    rd_kafka_topic_partition_list_t *l2 = rd_kafka_topic_partition_list_new(4);
    assert_int_equal(kf_offsets_collect(t, NULL, l2), 0);
    /* x/1 fails, y/0 succeeds */
    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].partition == 1)
            l->elems[i].err = RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT;
    kf_offsets_commit_result(t, l, RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(kf_offsets_committed(t, "y", 0), 3);
    assert_int_equal(kf_offsets_committed(t, "x", 1), -1);
    assert_int_equal(kf_offsets_collect(t, NULL, l2), 1);
    assert_string_equal(l2->elems[0].topic, "x");
    assert_int_equal(l2->elems[0].offset, 8);
    /* a whole-request failure re-arms everything in it */
    kf_offsets_commit_result(t, l2, RD_KAFKA_RESP_ERR__TRANSPORT);
    rd_kafka_topic_partition_list_t *l3 = rd_kafka_topic_partition_list_new(4);
    assert_int_equal(kf_offsets_collect(t, NULL, l3), 1);
    kf_offsets_commit_result(t, l3, RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(kf_offsets_committed(t, "x", 1), 8);
    /* collect restricted to a list */
    assert_int_equal(kf_offsets_ack(t, "x", 0, 0), KF_OK);
    rd_kafka_topic_partition_list_t *only = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(only, "y", 0);
    rd_kafka_topic_partition_list_t *l4 = rd_kafka_topic_partition_list_new(4);
    assert_int_equal(kf_offsets_collect(t, only, l4), 0);
    rd_kafka_topic_partition_list_add(only, "x", 0);
    assert_int_equal(kf_offsets_collect(t, only, l4), 1);
    assert_int_equal(l4->elems[0].offset, 1);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_topic_partition_list_destroy(l2);
    rd_kafka_topic_partition_list_destroy(l3);
    rd_kafka_topic_partition_list_destroy(l4);
    rd_kafka_topic_partition_list_destroy(only);
    kf_offsets_free(t);
}

static void test_drop_and_restart(void **state) {
    (void)state;
    kf_offsets_t *t = kf_offsets_new();
    for (int64_t o = 0; o < 4; o++)
        assert_int_equal(kf_offsets_track(t, "d", 0, o), KF_OK);
    assert_int_equal(kf_offsets_ack(t, "d", 0, 0), KF_OK);
    assert_int_equal(kf_offsets_drop(t, "d", 0), 3);
    assert_int_equal(kf_offsets_inflight(t, NULL, 0), 0);
    assert_int_equal(kf_offsets_ack(t, "d", 0, 1), KF_ERR_NOT_FOUND);
    assert_int_equal(kf_offsets_committable(t, "d", 0), -1);
    /* re-assigned, re-delivered from 1: a fresh partition */
    assert_int_equal(kf_offsets_track(t, "d", 0, 1), KF_OK);
    assert_int_equal(kf_offsets_ack(t, "d", 0, 1), KF_OK);
    assert_int_equal(kf_offsets_committable(t, "d", 0), 2);
    /* seek back without a drop restarts the partition */
    assert_int_equal(kf_offsets_track(t, "d", 0, 5), KF_OK);
    assert_int_equal(kf_offsets_track(t, "d", 0, 3), KF_OK);
    assert_int_equal(kf_offsets_inflight(t, "d", 0), 1);
    assert_int_equal(kf_offsets_committable(t, "d", 0), -1);
    assert_int_equal(kf_offsets_track(NULL, "d", 0, 1), KF_ERR_INVALID_ARG);
    assert_int_equal(kf_offsets_track(t, NULL, 0, 1), KF_ERR_INVALID_ARG);
    assert_int_equal(kf_offsets_track(t, "d", -1, 1), KF_ERR_INVALID_ARG);
    kf_offsets_free(t);
}

typedef struct {
    kf_offsets_t *t;
    int n;
} acker_arg_t;

static void *acker(void *arg) {
    acker_arg_t *a = arg;
    struct timespec ts = {0, 2000000};
    for (int i = a->n - 1; i >= 0; i--) {
        nanosleep(&ts, NULL);
        kf_offsets_ack(a->t, "w", i % 2, i);
    }
    return NULL;
}

static void test_wait_idle(void **state) {
    (void)state;
    kf_offsets_t *t = kf_offsets_new();
    for (int i = 0; i < 20; i++)
        assert_int_equal(kf_offsets_track(t, "w", i % 2, i), KF_OK);
    assert_int_equal(kf_offsets_wait_idle(t, NULL, 10), KF_ERR_TIMEOUT);
    acker_arg_t a = {t, 20};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, acker, &a), 0);
    rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(one, "w", 1);
    assert_int_equal(kf_offsets_wait_idle(t, one, 5000), KF_OK);
    assert_int_equal(kf_offsets_wait_idle(t, NULL, 5000), KF_OK);
    pthread_join(th, NULL);
    assert_int_equal(kf_offsets_inflight(t, NULL, 0), 0);
    assert_int_equal(kf_offsets_committable(t, "w", 0), 19);
    assert_int_equal(kf_offsets_committable(t, "w", 1), 20);
    rd_kafka_topic_partition_list_destroy(one);
    kf_offsets_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_of_order_acks),
        cmocka_unit_test(test_gaps_and_growth),
        cmocka_unit_test(test_collect_and_commit_retry),
        cmocka_unit_test(test_drop_and_restart),
        cmocka_unit_test(test_wait_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
