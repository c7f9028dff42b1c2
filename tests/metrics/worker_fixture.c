/* A real kf_worker (consumer, batcher, engine, producer, offsets) with the
 * metrics endpoint, wired exactly as `kinfer worker --metrics-port` wires
 * it, for worker_metrics.py:
 *   worker_fixture BOOTSTRAP MODEL.onnx LOG_FORMAT
 * topics jobs -> results, DLQ dlq, group metrics-acc, model "mnist"; HTTP
 * on a free 127.0.0.1 port printed as "port N" once listening (before the
 * consumer joins). Runs until stdin closes, then stops cleanly (exit 0). */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "kf_obs.h"
#include "kf_worker.h"

typedef struct holder {
    _Atomic(kf_worker_t *) w;
} holder_t;

static int ready(void *ctx, char *reason, size_t size) {
    holder_t *h = ctx;
    kf_worker_t *w = atomic_load(&h->w);
    if (!w) {
        snprintf(reason, size, "worker starting");
        return 0;
    }
    return kf_worker_ready(w, reason, size);
}

static void collect(void *ctx, kf_metrics_t *reg) {
    holder_t *h = ctx;
    kf_worker_t *w = atomic_load(&h->w);
    if (w)
        kf_worker_collect_metrics(w, reg);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: worker_fixture BOOTSTRAP MODEL.onnx text|json\n");
        return 2;
    }
    char err[512];
    kf_log_params_t lp = kf_log_default_params();
    if (kf_log_format_parse(argv[3], &lp.format) != KF_OK) {
        fprintf(stderr, "worker_fixture: bad log format %s\n", argv[3]);
        return 2;
    }
    lp.component = "worker";
    kf_logger_t *log = kf_logger_new(&lp);
    holder_t h;
    atomic_init(&h.w, NULL);
    kf_obs_params_t op = kf_obs_default_params();
    op.port = KF_HTTP_PORT_ANY;
    op.bind_address = "127.0.0.1";
    op.stats_interval_ms = 500;
    op.ready = ready;
    op.ready_ctx = &h;
    op.log = log;
    kf_obs_t *obs = kf_obs_new(&op, err, sizeof(err));
    if (!obs || kf_metrics_on_collect(kf_obs_registry(obs), collect, &h) != KF_OK) {
        fprintf(stderr, "worker_fixture: %s\n", err);
        return 1;
    }
    printf("port %d\n", kf_obs_port(obs));
    fflush(stdout);

    const char *topics[] = {"jobs", NULL};
    const char *kv[] = {"session.timeout.ms", "6000", NULL};
    kf_worker_params_t wp = kf_worker_default_params();
    wp.bootstrap = argv[1];
    wp.group = "metrics-acc";
    wp.topics = topics;
    wp.output_topic = "results";
    wp.dlq_topic = "dlq";
    wp.kafka_kv = kv;
    wp.threads = 1;
    wp.log = log;
    wp.metrics = kf_obs_metrics(obs);
    wp.stats_interval_ms = kf_obs_stats_interval_ms(obs);
    kf_worker_t *w = kf_worker_new(&wp, err, sizeof(err));
    if (!w || kf_worker_load_model(w, "mnist", "1", argv[2], err, sizeof(err)) != KF_OK ||
        kf_worker_start(w, err, sizeof(err)) != KF_OK) {
        fprintf(stderr, "worker_fixture: %s\n", err);
        kf_worker_free(w);
        kf_obs_free(obs);
        kf_logger_free(log);
        return 1;
    }
    atomic_store(&h.w, w);
    char line[64];
    while (fgets(line, sizeof(line), stdin)) {
    }
    kf_worker_stop(w);
    kf_status_t st = kf_worker_wait(w, 30000);
    kf_obs_stop_http(obs); /* no scrape touches the worker any more */
    kf_worker_free(w);     /* still reports (model unloads) to the metric set */
    kf_obs_free(obs);
    kf_logger_free(log);
    return st == KF_OK ? 0 : 1;
}
