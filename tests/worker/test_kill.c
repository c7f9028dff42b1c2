/* Acceptance: kill -9 of a worker mid-stream, restart, no job lost.
 *
 * A real `kinfer worker` child process (identity16) consumes from the
 * fixture's mock cluster while a producer thread keeps sending jobs. Once
 * the first results are out, the worker is killed with SIGKILL (no drain,
 * no commit, no leave) and a second worker process is started in the same
 * group. The test then checks that every job has an OK result whose output
 * equals its input, that the committed offsets reach the end of every input
 * partition, and that the second worker exits 0 on SIGTERM. Duplicates
 * (jobs answered by the killed worker after its last commit, answered again
 * by its successor) are counted and printed, not asserted: at-least-once
 * allows them.
 *
 * Nothing is timed: every wait has a generous limit (a loaded 2-core CI
 * machine), and the kill happens after a number of results, not after a
 * delay. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kf_cli_util.h"
#include "kf_codec.h"
#include "wk_fixture.h"

extern char **environ;

#define IN "jobs"
#define OUT "results"
#define DLQ "dlq"
#define PARTS 8
#define FEAT 16
#define N_JOBS 30000
#define JOBS_PER_S 4000 /* a stream: the kill lands while jobs still arrive */
#define KILL_AFTER 1000 /* results seen (and committed) before the kill */
#define GROUP "g-kill9"

static void job_input(int i, float *x) {
    for (int k = 0; k < FEAT; k++)
        x[k] = (float)i + (float)k / 100.0f;
}

/* ---- producer thread ------------------------------------------------------- */

typedef struct feeder {
    const char *bootstrap;
    atomic_int sent;
} feeder_t;

static void *feed_main(void *arg) {
    feeder_t *f = arg;
    rd_kafka_t *p = wk_producer(f->bootstrap);
    kf_codec_params_t cp = kf_codec_default_params();
    kf_buf_t buf = KF_BUF_INIT;
    int64_t t0 = wk_now_ms();
    for (int i = 0; i < N_JOBS; i++) {
        int64_t due = t0 + (int64_t)i * 1000 / JOBS_PER_S;
        if (due > wk_now_ms())
            wk_sleep_ms((int)(due - wk_now_ms()));
        float x[FEAT];
        job_input(i, x);
        char id[32];
        snprintf(id, sizeof(id), "j%d", i);
        kf_tensor_view_t t;
        kf_request_t r;
        kf_cli_row_request_init(&r, &t, id, "m", x, FEAT);
        kf_codec_error_t ce;
        WK_CHECK(kf_codec_encode_request(&cp, &r, &buf, &ce) == KF_OK, "encode: %s", ce.msg);
        wk_produce(p, IN, i % PARTS, id, strlen(id), buf.data, buf.len, NULL);
        rd_kafka_poll(p, 0);
        atomic_store(&f->sent, i + 1);
    }
    wk_flush(p);
    rd_kafka_destroy(p);
    kf_buf_free(&buf);
    return NULL;
}

/* ---- result reader thread --------------------------------------------------- */

typedef struct reader {
    const char *bootstrap;
    atomic_int stop;
    atomic_int answered; /* distinct jobs with an OK result */
    atomic_int records;  /* result records read */
    int *count;          /* per job id; reader thread only until joined */
    int bad;             /* undecodable, wrong id/status/output */
} reader_t;

static void on_result(reader_t *r, const rd_kafka_message_t *m) {
    atomic_fetch_add(&r->records, 1);
    kf_codec_params_t cp = kf_codec_default_params();
    kf_result_t *res = NULL;
    kf_codec_error_t ce;
    if (kf_codec_decode_result(&cp, m->payload, m->len, &res, &ce) != KF_OK) {
        r->bad++;
        return;
    }
    int id = res->id[0] == 'j' ? atoi(res->id + 1) : -1;
    float want[FEAT];
    if (id >= 0 && id < N_JOBS)
        job_input(id, want);
    if (id < 0 || id >= N_JOBS || res->status != KF_RESULT_OK || res->n_outputs != 1 ||
        res->outputs[0].nbytes != sizeof(want) ||
        memcmp(res->outputs[0].data, want, sizeof(want)) != 0 || m->key_len != strlen(res->id) ||
        memcmp(m->key, res->id, m->key_len) != 0) {
        if (r->bad++ < 5)
            fprintf(stderr, "bad result for id '%s' (status %d)\n", res->id, (int)res->status);
        kf_result_free(res);
        return;
    }
    if (r->count[id]++ == 0)
        atomic_fetch_add(&r->answered, 1);
    kf_result_free(res);
}

static void *read_main(void *arg) {
    reader_t *r = arg;
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", r->bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "kill9-reader", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof(err));
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    WK_CHECK(c != NULL, "%s", err);
    rd_kafka_poll_set_consumer(c);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(PARTS);
    for (int i = 0; i < PARTS; i++)
        rd_kafka_topic_partition_list_add(l, OUT, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    WK_CHECK(rd_kafka_assign(c, l) == RD_KAFKA_RESP_ERR_NO_ERROR, "assign");
    rd_kafka_topic_partition_list_destroy(l);
    while (!atomic_load(&r->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m)
            continue;
        if (!m->err)
            on_result(r, m);
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return NULL;
}

/* ---- the worker child process ------------------------------------------------ */

static pid_t start_worker(const char *bootstrap, const char *model) {
    const char *bin = getenv("KINFER_BIN");
    WK_CHECK(bin != NULL, "KINFER_BIN is not set (run through ctest)");
    char m[4200];
    snprintf(m, sizeof(m), "m=%s", model);
    char *const argv[] = {(char *)bin,   "worker",
                          "-b",          (char *)bootstrap,
                          "-g",          GROUP,
                          "-i",          IN,
                          "-o",          OUT,
                          "--dlq",       DLQ,
                          "-m",          m,
                          "--threads",   "1",
                          "--max-batch", "16",
                          "--log-level", "warn",
                          "-X",          "session.timeout.ms=6000",
                          NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, bin, NULL, NULL, argv, environ);
    WK_CHECK(rc == 0, "cannot start %s: %s", bin, strerror(rc));
    return pid;
}

/* Waits up to timeout_ms for the child; returns its wait status, or -1. */
static int wait_child(pid_t pid, int timeout_ms) {
    int64_t end = wk_now_ms() + timeout_ms;
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        WK_CHECK(r == 0, "waitpid: %s", strerror(errno));
        if (wk_now_ms() >= end)
            return -1;
        wk_sleep_ms(50);
    }
}

static int alive(pid_t pid) {
    return waitpid(pid, NULL, WNOHANG) == 0;
}

static int committed_to_end(const char *bootstrap) {
    for (int p = 0; p < PARTS; p++)
        if (wk_committed(bootstrap, GROUP, IN, p) != wk_high_watermark(bootstrap, IN, p))
            return 0;
    return 1;
}

int main(void) {
    const char *src = getenv("KINFER_SOURCE_DIR");
    char model[4096];
    snprintf(model, sizeof(model), "%s/models/identity16.onnx", src ? src : ".");
    signal(SIGPIPE, SIG_IGN);

    wk_cluster_t c;
    wk_cluster_start(&c, 1);
    wk_topic(&c, IN, PARTS);
    wk_topic(&c, OUT, PARTS);
    wk_topic(&c, DLQ, 1);

    reader_t r;
    memset(&r, 0, sizeof(r));
    r.bootstrap = c.bootstrap;
    r.count = calloc(N_JOBS, sizeof(int));
    WK_CHECK(r.count != NULL, "oom");
    pthread_t rth, fth;
    pthread_create(&rth, NULL, read_main, &r);
    feeder_t f = {c.bootstrap, 0};
    pthread_create(&fth, NULL, feed_main, &f);

    /* worker 1: killed with SIGKILL once it has answered KILL_AFTER jobs and
     * committed some of them (so the restart starts mid-partition) */
    pid_t w1 = start_worker(c.bootstrap, model);
    int64_t end = wk_now_ms() + 90000, committed_at_kill = 0;
    while (wk_now_ms() < end) {
        WK_CHECK(alive(w1), "worker 1 exited before the kill");
        if (atomic_load(&r.answered) >= KILL_AFTER) {
            committed_at_kill = 0;
            for (int p = 0; p < PARTS; p++) {
                int64_t o = wk_committed(c.bootstrap, GROUP, IN, p);
                committed_at_kill += o > 0 ? o : 0;
            }
            if (committed_at_kill >= KILL_AFTER / 2)
                break;
        }
        wk_sleep_ms(50);
    }
    int answered_at_kill = atomic_load(&r.answered), sent_at_kill = atomic_load(&f.sent);
    WK_CHECK(answered_at_kill >= KILL_AFTER && committed_at_kill >= KILL_AFTER / 2,
             "worker 1 answered %d jobs and committed %" PRId64 " in 90 s", answered_at_kill,
             committed_at_kill);
    WK_CHECK(kill(w1, SIGKILL) == 0, "kill: %s", strerror(errno));
    int st = wait_child(w1, 30000);
    WK_CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "worker 1 was not killed");
    printf("{\"killed_after_answered\":%d,\"committed_at_kill\":%" PRId64
           ",\"sent_at_kill\":%d,\"jobs\":%d}\n",
           answered_at_kill, committed_at_kill, sent_at_kill, N_JOBS);
    fflush(stdout);

    /* worker 2: same group; gets the partitions once worker 1's session
     * expires, from the last committed offsets */
    pid_t w2 = start_worker(c.bootstrap, model);
    pthread_join(fth, NULL); /* every job sent */
    end = wk_now_ms() + 120000;
    while (atomic_load(&r.answered) < N_JOBS && wk_now_ms() < end) {
        WK_CHECK(alive(w2), "worker 2 exited early");
        wk_sleep_ms(100);
    }
    /* its commits reach the end of every partition (commit interval 1 s) */
    end = wk_now_ms() + 60000;
    int committed = 0;
    while (!(committed = committed_to_end(c.bootstrap)) && wk_now_ms() < end)
        wk_sleep_ms(500);
    WK_CHECK(kill(w2, SIGTERM) == 0, "kill: %s", strerror(errno));
    st = wait_child(w2, 60000);
    if (st == -1) {
        kill(w2, SIGKILL);
        wait_child(w2, 10000);
    }
    wk_sleep_ms(1000); /* late records of worker 2, if any */
    atomic_store(&r.stop, 1);
    pthread_join(rth, NULL);

    int missing = 0, dups = 0;
    for (int i = 0; i < N_JOBS; i++) {
        missing += r.count[i] == 0;
        dups += r.count[i] > 1 ? r.count[i] - 1 : 0;
    }
    printf("{\"jobs\":%d,\"answered\":%d,\"missing\":%d,\"duplicates\":%d,\"records\":%d,"
           "\"bad\":%d,\"committed_to_end\":%d,\"worker2_exit\":%d}\n",
           N_JOBS, atomic_load(&r.answered), missing, dups, atomic_load(&r.records), r.bad,
           committed, st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    WK_CHECK(missing == 0, "%d job(s) lost after kill -9 and restart", missing);
    WK_CHECK(r.bad == 0, "%d bad result(s)", r.bad);
    WK_CHECK(committed, "committed offsets did not reach the end of the input");
    WK_CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
             "worker 2 did not exit 0 on SIGTERM (status %d)", st);
    free(r.count);
    wk_cluster_stop(&c);
    return 0;
}
