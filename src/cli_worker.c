/* `kinfer worker`: the service. Flags and -c FILE / -X key=value / KINFER_*
 * go through kf_config (file < flags < environment); -m NAME=SOURCE loads
 * a model (repeatable). SIGTERM/SIGINT: stop fetching, finish in-flight
 * batches, deliver, commit, leave the group, exit 0; a second signal exits
 * at once (at-least-once still holds: uncommitted jobs are re-delivered). */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "kf_artifact_worker.h"
#include "kf_codec.h"
#include "kf_config.h"
#include "kf_log.h"
#include "kf_model_batching.h"
#include "kf_obs.h"
#include "kf_worker.h"

extern char **environ;

#define MAX_MODELS 32
#define MAX_TOPICS 32

/* The only process-wide state: the signal count (a signal handler may only
 * touch an atomic flag). */
static atomic_int g_signals;

static void on_signal(int sig) {
    (void)sig;
    atomic_fetch_add(&g_signals, 1);
}

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: kinfer worker -b BOOTSTRAP -g GROUP -i TOPIC[,TOPIC...] -o OUTPUT_TOPIC\n"
        "                     --dlq DLQ_TOPIC -m NAME=SOURCE [-m ...] [--codec "
        "raw|confluent|auto]\n"
        "                     [--schema-id K] [--max-batch N] [--max-queue-delay-ms D]\n"
        "                     [--threads T] [--metrics-port P] [--log-format text|json]\n"
        "                     [-c FILE] [-X key=value ...]\n"
        "\n"
        "Consumes inference jobs, batches them per model, runs them and produces results\n"
        "(at-least-once: an input offset is committed after its result or DLQ record was\n"
        "acknowledged). SIGTERM/SIGINT drain and exit 0; a second signal exits at once.\n"
        "\n"
        "options:\n"
        "  -b, --bootstrap HOSTS        Kafka bootstrap servers (key bootstrap)\n"
        "  -g, --group GROUP            consumer group (key group)\n"
        "  -i, --input TOPICS           input topics, comma-separated (key input.topics)\n"
        "  -o, --output TOPIC           result topic (key output.topic)\n"
        "      --dlq TOPIC              dead-letter topic (key dlq.topic)\n"
        "  -m, --model NAME=SOURCE      model NAME from SOURCE (a .onnx path or file:// URL);\n"
        "                               version NAME@VERSION=SOURCE (default 1); repeatable.\n"
        "                               SOURCE may be a repository (http(s)://, s3://, a\n"
        "                               directory): {SOURCE}/NAME/LATEST names the version,\n"
        "                               polled every model.NAME.poll_interval_ms for hot swaps\n"
        "      --codec raw|confluent|auto  framing (key codec)\n"
        "      --schema-id K            Confluent schema id of requests (key schema.request_id)\n"
        "      --max-batch N            rows per batch cap (key max_batch)\n"
        "      --max-queue-delay-ms D   batch wait after its first job (key max_queue_delay_ms)\n"
        "      --threads T              engine threads per model (key threads; 0 = all)\n"
        "      --metrics-port P         serve /metrics /healthz /readyz on P (key metrics.port;\n"
        "                               0 = off; address: key metrics.bind)\n"
        "      --log-format text|json   log line format (key log.format)\n"
        "      --log-level LEVEL        debug|info|warn|error|off (key log.level)\n"
        "  -c, --config FILE            properties file\n"
        "  -X, --set KEY=VALUE          any config key, or a librdkafka property (repeatable)\n"
        "                               (per model: -X model.NAME.max_batch=N,\n"
        "                               model.NAME.max_queue_delay_ms=D,\n"
        "                               model.NAME.preferred_batch=P; NAME must be served)\n"
        "  -h, --help                   this help\n"
        "\n"
        "config keys (file, -X, or KINFER_<KEY>):\n");
    kf_config_print_keys(out);
}

static kf_status_t apply_kafka(void *user, rd_kafka_conf_t *conf, char *err, size_t n) {
    return kf_config_apply_kafka(user, conf, err, n);
}

typedef struct model_arg {
    char name[128], version[64];
    const char *source;
} model_arg_t;

static int parse_model(const char *arg, model_arg_t *m) {
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return -1;
    size_t n = (size_t)(eq - arg);
    char spec[256];
    if (n >= sizeof(spec))
        return -1;
    memcpy(spec, arg, n);
    spec[n] = 0;
    char *at = strchr(spec, '@');
    if (at) {
        *at = 0;
        if (!at[1] || strlen(at + 1) >= sizeof(m->version))
            return -1;
        snprintf(m->version, sizeof(m->version), "%s", at + 1);
    } else {
        snprintf(m->version, sizeof(m->version), "1");
    }
    if (!spec[0] || snprintf(m->name, sizeof(m->name), "%s", spec) >= (int)sizeof(m->name))
        return -1;
    m->source = eq + 1;
    return 0;
}

/* /readyz and per-scrape metrics read the worker through this holder, so
 * the HTTP server can start (and answer 503) before the worker exists. */
typedef struct obs_link {
    _Atomic(kf_worker_t *) w;
} obs_link_t;

static int obs_ready(void *ctx, char *reason, size_t size) {
    kf_worker_t *w = atomic_load(&((obs_link_t *)ctx)->w);
    if (!w) {
        snprintf(reason, size, "loading models");
        return 0;
    }
    return kf_worker_ready(w, reason, size);
}

static void obs_collect(void *ctx, kf_metrics_t *reg) {
    kf_worker_t *w = atomic_load(&((obs_link_t *)ctx)->w);
    if (w)
        kf_worker_collect_metrics(w, reg);
}

static int fail(kf_config_t *cfg, const char *msg, int code) {
    fprintf(stderr, "kinfer worker: %s\n", msg);
    kf_config_free(cfg);
    return code;
}

int kf_cli_worker(int argc, char **argv) {
    static const struct option opts[] = {{"bootstrap", required_argument, NULL, 'b'},
                                         {"group", required_argument, NULL, 'g'},
                                         {"input", required_argument, NULL, 'i'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"dlq", required_argument, NULL, 'D'},
                                         {"model", required_argument, NULL, 'm'},
                                         {"codec", required_argument, NULL, 'C'},
                                         {"schema-id", required_argument, NULL, 'S'},
                                         {"max-batch", required_argument, NULL, 'B'},
                                         {"max-queue-delay-ms", required_argument, NULL, 'Q'},
                                         {"threads", required_argument, NULL, 'T'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"set", required_argument, NULL, 'X'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"metrics-port", required_argument, NULL, 'P'},
                                         {"log-format", required_argument, NULL, 'F'},
                                         {"log-level", required_argument, NULL, 'L'},
                                         {NULL, 0, NULL, 0}};
    kf_config_t *cfg = kf_config_new();
    if (!cfg)
        return fail(NULL, "out of memory", 1);
    model_arg_t models[MAX_MODELS];
    int nmodels = 0;
    char err[512];
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "b:g:i:o:m:c:X:h", opts, NULL)) != -1) {
        const char *key = NULL;
        switch (c) {
        case 'b': key = "bootstrap"; break;
        case 'g': key = "group"; break;
        case 'i': key = "input.topics"; break;
        case 'o': key = "output.topic"; break;
        case 'D': key = "dlq.topic"; break;
        case 'C': key = "codec"; break;
        case 'S': key = "schema.request_id"; break;
        case 'B': key = "max_batch"; break;
        case 'Q': key = "max_queue_delay_ms"; break;
        case 'T': key = "threads"; break;
        case 'P': key = "metrics.port"; break;
        case 'F': key = "log.format"; break;
        case 'L': key = "log.level"; break;
        case 'm':
            if (nmodels == MAX_MODELS || parse_model(optarg, &models[nmodels]) != 0) {
                snprintf(err, sizeof(err), "-m '%s': expected NAME[@VERSION]=SOURCE (at most %d)",
                         optarg, MAX_MODELS);
                return fail(cfg, err, 2);
            }
            nmodels++;
            continue;
        case 'c':
            if (kf_config_load_file(cfg, optarg, err, sizeof(err)) != KF_OK)
                return fail(cfg, err, 2);
            continue;
        case 'X': {
            /* a key of the table (cache.dir, model.m.poll_interval_ms) is a
             * config key; anything else a librdkafka property */
            char k[256];
            const char *eq = strchr(optarg, '=');
            snprintf(k, sizeof(k), "%.*s", eq ? (int)(eq - optarg) : 0, optarg);
            int kafka_default = kf_config_key_find(k) == NULL;
            if (kf_config_set_pair(cfg, optarg, kafka_default, KF_CFG_SRC_FLAG, "-X", err,
                                   sizeof(err)) != KF_OK)
                return fail(cfg, err, 2);
            continue;
        }
        case 'h':
            usage(stdout);
            kf_config_free(cfg);
            return 0;
        default:
            usage(stderr);
            kf_config_free(cfg);
            return 2;
        }
        if (kf_config_set(cfg, key, optarg, KF_CFG_SRC_FLAG, "command line", err, sizeof(err)) !=
            KF_OK)
            return fail(cfg, err, 2);
    }
    if (optind < argc) {
        snprintf(err, sizeof(err), "unexpected argument '%s'", argv[optind]);
        return fail(cfg, err, 2);
    }
    if (kf_config_load_env(cfg, environ, err, sizeof(err)) != KF_OK)
        return fail(cfg, err, 2);
    /* -m NAME=BASE_URL names a repository: served as model.NAME.source */
    for (int i = 0; i < nmodels; i++) {
        if (!kf_model_source_is_repo(models[i].source))
            continue;
        char key[320];
        snprintf(key, sizeof(key), "model.%.300s.source", models[i].name);
        if (kf_config_set(cfg, key, models[i].source, KF_CFG_SRC_FLAG, "-m", err, sizeof(err)) !=
            KF_OK)
            return fail(cfg, err, 2);
        models[i--] = models[--nmodels]; /* no direct load */
    }
    if (!kf_config_get(cfg, "bootstrap"))
        return fail(cfg, "no bootstrap servers (-b or key bootstrap)", 2);
    /* models also come from config: model.<name>.source (a repository URL
     * is served and hot-swapped by kf_worker_sources; a plain file loads
     * like -m) */
    int nsources = 0;
    for (size_t i = 0; i < kf_config_model_count(cfg); i++) {
        char key[300];
        snprintf(key, sizeof(key), "model.%s.source", kf_config_model_name(cfg, i));
        if (kf_config_get(cfg, key))
            nsources++;
    }
    if (nmodels == 0 && nsources == 0)
        return fail(cfg, "no model (-m NAME=SOURCE or model.<name>.source)", 2);
    /* per-model batching keys, checked against the models served */
    const char *known[MAX_MODELS + 64];
    size_t nknown = 0;
    for (int i = 0; i < nmodels; i++)
        known[nknown++] = models[i].name;
    for (size_t i = 0; i < kf_config_model_count(cfg) && nknown < sizeof(known) / sizeof(known[0]);
         i++) {
        char key[300];
        snprintf(key, sizeof(key), "model.%s.source", kf_config_model_name(cfg, i));
        if (kf_config_get(cfg, key))
            known[nknown++] = kf_config_model_name(cfg, i);
    }
    kf_model_batching_t bdef, batching[MAX_MODELS];
    memset(&bdef, 0, sizeof(bdef));
    bdef.max_batch = (size_t)kf_config_get_int(cfg, "max_batch", 64);
    bdef.max_queue_delay_ms = (int)kf_config_get_int(cfg, "max_queue_delay_ms", 5);
    size_t nbatching = 0;
    if (kf_model_batching_resolve(cfg, known, nknown, &bdef, batching, MAX_MODELS, &nbatching, err,
                                  sizeof(err)) != KF_OK)
        return fail(cfg, err, 2);

    /* logging */
    kf_log_params_t lp = kf_log_default_params();
    if (kf_log_level_parse(kf_config_get(cfg, "log.level"), &lp.level) != KF_OK ||
        kf_log_format_parse(kf_config_get(cfg, "log.format"), &lp.format) != KF_OK)
        return fail(cfg, "bad log.level or log.format", 2);
    lp.component = "worker";
    kf_logger_t *log = kf_logger_new(&lp);

    /* input topics */
    char topics_buf[1024];
    const char *topics[MAX_TOPICS + 1];
    int ntopics = 0;
    snprintf(topics_buf, sizeof(topics_buf), "%s", kf_config_get(cfg, "input.topics"));
    for (char *save = NULL, *t = strtok_r(topics_buf, ",", &save); t && ntopics < MAX_TOPICS;
         t = strtok_r(NULL, ",", &save))
        topics[ntopics++] = t;
    topics[ntopics] = NULL;

    kf_worker_params_t p = kf_worker_default_params();
    p.bootstrap = kf_config_get(cfg, "bootstrap");
    p.group = kf_config_get(cfg, "group");
    p.topics = topics;
    p.output_topic = kf_config_get(cfg, "output.topic");
    p.dlq_topic = kf_config_get(cfg, "dlq.topic");
    p.kafka_conf_fn = apply_kafka;
    p.kafka_conf_user = cfg;
    if (kf_framing_parse(kf_config_get(cfg, "codec"), &p.codec.framing) != KF_OK) {
        kf_logger_free(log);
        return fail(cfg, "bad codec", 2);
    }
    p.codec.request_schema_id = (int32_t)kf_config_get_int(cfg, "schema.request_id", 1);
    p.codec.result_schema_id = (int32_t)kf_config_get_int(cfg, "schema.result_id", 2);
    p.max_batch = (size_t)kf_config_get_int(cfg, "max_batch", 64);
    p.max_queue_delay_ms = (int)kf_config_get_int(cfg, "max_queue_delay_ms", 5);
    p.threads = (int)kf_config_get_int(cfg, "threads", 0);
    p.device = kf_config_get(cfg, "device");
    p.memory_budget = (size_t)kf_config_get_int(cfg, "memory.budget", 0);
    p.device_percent = (int)kf_config_get_int(cfg, "memory.device_percent", 80);
    p.precision = kf_config_get(cfg, "precision");
    p.high_mark = (size_t)kf_config_get_int(cfg, "inflight.high", 4096);
    p.low_mark = (size_t)kf_config_get_int(cfg, "inflight.low", 1024);
    p.worker_id = kf_config_get(cfg, "worker.id");
    const char *guarantee = kf_config_get(cfg, "processing.guarantee");
    p.exactly_once = guarantee && !strcmp(guarantee, "exactly_once");
    p.transactional_id = kf_config_get(cfg, "transactional.id");
    p.log = log;

    int rc = 1;
    kf_worker_t *w = NULL;
    kf_model_sources_t *srcs = NULL;
    /* metrics + health endpoint first: /healthz answers while models load */
    obs_link_t link;
    atomic_init(&link.w, NULL);
    kf_obs_params_t op = kf_obs_default_params();
    kf_obs_t *obs = NULL;
    if (kf_obs_params_from_config(&op, cfg, err, sizeof(err)) != KF_OK) {
        fprintf(stderr, "kinfer worker: %s\n", err);
        goto out;
    }
    op.ready = obs_ready;
    op.ready_ctx = &link;
    op.log = log;
    obs = kf_obs_new(&op, err, sizeof(err));
    if (!obs || kf_metrics_on_collect(kf_obs_registry(obs), obs_collect, &link) != KF_OK) {
        fprintf(stderr, "kinfer worker: %s\n", obs ? "metrics: too many collectors" : err);
        goto out;
    }
    p.metrics = kf_obs_metrics(obs);
    p.stats_interval_ms = kf_obs_stats_interval_ms(obs);
    w = kf_worker_new(&p, err, sizeof(err));
    if (!w) {
        fprintf(stderr, "kinfer worker: %s\n", err);
        goto out;
    }
    atomic_store(&link.w, w);
    if (kf_worker_set_model_batching(w, batching, nbatching) != KF_OK) {
        fprintf(stderr, "kinfer worker: invalid per-model batching\n");
        goto out;
    }
    for (int i = 0; i < nmodels; i++) {
        if (kf_worker_load_model(w, models[i].name, models[i].version, models[i].source, err,
                                 sizeof(err)) != KF_OK) {
            fprintf(stderr, "kinfer worker: %s\n", err);
            goto out;
        }
    }
    for (size_t i = 0; i < kf_config_model_count(cfg); i++) {
        const char *name = kf_config_model_name(cfg, i);
        char key[300];
        snprintf(key, sizeof(key), "model.%s.source", name);
        const char *src = kf_config_get(cfg, key);
        if (src && !kf_model_source_is_repo(src) &&
            kf_worker_load_model(w, name, "1", src, err, sizeof(err)) != KF_OK) {
            fprintf(stderr, "kinfer worker: %s\n", err);
            goto out;
        }
    }
    if (nsources > 0) {
        srcs = kf_worker_sources_new(w, cfg, log, err, sizeof(err)); /* loads LATEST */
        if (!srcs) {
            fprintf(stderr, "kinfer worker: %s\n", err);
            goto out;
        }
        kf_obs_watch_model_sources(obs, srcs); /* kinfer_artifact_fetch_errors_total */
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (kf_worker_start(w, err, sizeof(err)) != KF_OK) {
        fprintf(stderr, "kinfer worker: %s\n", err);
        goto out;
    }
    if (srcs && kf_model_sources_start(srcs) != KF_OK) {
        fprintf(stderr, "kinfer worker: cannot start the model repository pollers\n");
        kf_worker_stop(w);
        (void)kf_worker_wait(w, 30000);
        goto out;
    }
    KF_INFO(log, "worker started: %d input topic(s), %d model(s)", ntopics, nmodels + nsources);
    int stopping = 0;
    for (;;) {
        int n = atomic_load(&g_signals);
        if (n >= 2) {
            KF_WARN(log, "second signal: exiting at once (uncommitted jobs are re-delivered)");
            _exit(1);
        }
        if (n == 1 && !stopping) {
            KF_INFO(log, "signal: draining in-flight jobs, committing, leaving the group");
            kf_worker_stop(w);
            stopping = 1;
        }
        if (stopping && kf_worker_wait(w, 100) == KF_OK)
            break;
        if (!stopping) {
            usleep(100000);
            if (kf_worker_wait(w, 0) == KF_ERR_INTERNAL) {
                KF_ERROR(log, "worker stopped after a fatal error (see above)");
                goto out;
            }
        }
    }
    kf_worker_stats_t s = kf_worker_stats(w);
    KF_INFO(log, "stopped: %llu consumed, %llu ok, %llu dlq, %llu batches",
            (unsigned long long)s.consumed, (unsigned long long)s.results[KF_RESULT_OK],
            (unsigned long long)s.dlq, (unsigned long long)s.batches);
    rc = 0;
out:
    kf_obs_stop_http(obs);       /* no scrape reads the worker after this */
    kf_model_sources_free(srcs); /* pollers stop before the worker goes */
    kf_worker_free(w);           /* reports model unloads to the metric set */
    kf_obs_free(obs);
    kf_logger_free(log);
    kf_config_free(cfg);
    return rc;
}
