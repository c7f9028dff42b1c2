/* `kinfer produce`: send inference jobs built from .npy files (split along
 * the leading dimension into jobs of R rows, repeated cyclically when more
 * jobs are asked for) or from random data for a given signature. Waits for
 * every delivery report; exit 0 only when all were delivered. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kf_cli_util.h"
#include "kf_codec.h"
#include "kf_config.h"
#include "kf_job_producer.h"
#include "kf_npy.h"

#define MAX_TENSORS 64
#define MAX_META 64
#define MAX_JOB_BYTES ((size_t)1 << 30)

typedef struct produce_input {
    char name[128];
    kf_npy_t *arr;         /* --input: owned */
    size_t row_bytes;      /* bytes per leading-dim row */
    kf_tensor_spec_t spec; /* --shape */
    void *rand_buf;        /* --shape: owned, one job's worth */
    size_t rand_bytes;
} produce_input_t;

typedef struct produce_opts {
    const char *bootstrap, *topic, *model, *version, *id_prefix, *key, *reply_topic;
    const char *input_args[MAX_TENSORS];
    int n_input_args;
    const char *shape_args[MAX_TENSORS];
    int n_shape_args;
    kf_kv_t meta[MAX_META];
    int n_meta;
    int64_t rows_per_job; /* 0 = not given */
    int64_t jobs;         /* 0 = not given */
    int64_t deadline_ms;  /* 0 = none */
    int64_t partition;
    int64_t seed;
    kf_codec_params_t codec;
    int quiet;
} produce_opts_t;

static void usage(FILE *out) {
    fprintf(out,
            "usage: kinfer produce -b BOOTSTRAP -t TOPIC --model NAME [--version V]\n"
            "                      (--input NAME=FILE.npy ... | --shape NAME:DTYPE:DIMS ...)\n"
            "                      [--rows-per-job R] [--jobs N] [options]\n"
            "\n"
            "Sends inference jobs (schemas/inference_request.avsc). With --input the .npy\n"
            "arrays (same leading dimension) are split into jobs of R rows; --jobs beyond\n"
            "that repeats them cyclically. With --shape random jobs are generated. Waits for\n"
            "every delivery report and exits non-zero when any failed.\n"
            "\n"
            "options:\n"
            "  -b, --bootstrap HOST:PORT    Kafka bootstrap servers (required)\n"
            "  -t, --topic TOPIC            jobs topic (required)\n"
            "  -m, --model NAME             model name (required)\n"
            "      --version V              pin a model version (default: newest loaded)\n"
            "  -i, --input NAME=FILE.npy    input tensor from a .npy file (repeatable)\n"
            "  -s, --shape NAME:DTYPE:DIMS  random input, e.g. input:float32:1x784 (repeatable)\n"
            "  -r, --rows-per-job R         rows per job (default 1 with --input; with --shape\n"
            "                               it replaces the leading dim of DIMS)\n"
            "  -n, --jobs N                 jobs to send (default: all rows once with --input,\n"
            "                               1 with --shape)\n"
            "      --codec raw|confluent    framing (default raw)\n"
            "      --schema-id K            Confluent schema id of requests (default 1)\n"
            "      --id-prefix P            job ids are P<n> (default job-)\n"
            "      --key id|none|TEXT       message key: the job id (default), none, or TEXT\n"
            "      --metadata K=V           metadata entry on every job (repeatable)\n"
            "      --deadline-ms MS         deadline MS milliseconds after sending\n"
            "      --reply-topic T          ask the worker to answer on T\n"
            "      --partition P            produce to partition P (default: by key)\n"
            "      --seed S                 random seed for --shape (default 1)\n"
            "  -X, --property KEY=VALUE     librdkafka property (repeatable)\n"
            "  -q, --quiet                  no progress or summary on stderr\n"
            "  -h, --help                   this help\n");
}

static void inputs_free(produce_input_t *in, int n) {
    for (int i = 0; i < n; i++) {
        kf_npy_free(in[i].arr);
        free(in[i].rand_buf);
    }
}

/* Loads --input files; returns rows (common leading dim) or -1. */
static int64_t load_inputs(const produce_opts_t *o, produce_input_t *in) {
    int64_t rows = -1;
    for (int i = 0; i < o->n_input_args; i++) {
        const char *arg = o->input_args[i];
        const char *eq = strchr(arg, '=');
        if (!eq || (size_t)(eq - arg) >= sizeof(in[i].name)) {
            fprintf(stderr, "kinfer produce: --input '%s': expected NAME=FILE.npy\n", arg);
            return -1;
        }
        memcpy(in[i].name, arg, (size_t)(eq - arg));
        in[i].name[eq - arg] = '\0';
        char err[512];
        if (kf_npy_load_file(eq + 1, 0, &in[i].arr, err, sizeof(err)) != KF_OK) {
            fprintf(stderr, "kinfer produce: --input %s: %s\n", in[i].name, err);
            return -1;
        }
        const kf_npy_t *a = in[i].arr;
        if (a->rank < 1 || a->shape[0] < 1) {
            fprintf(stderr,
                    "kinfer produce: --input %s: %s has no leading (row) dimension to split\n",
                    in[i].name, eq + 1);
            return -1;
        }
        if (rows >= 0 && a->shape[0] != rows) {
            fprintf(stderr,
                    "kinfer produce: --input %s: %s has %lld rows, earlier inputs have %lld\n",
                    in[i].name, eq + 1, (long long)a->shape[0], (long long)rows);
            return -1;
        }
        rows = a->shape[0];
        in[i].row_bytes = a->nbytes / (size_t)rows;
    }
    return rows;
}

static int prepare_shapes(const produce_opts_t *o, produce_input_t *in) {
    for (int i = 0; i < o->n_shape_args; i++) {
        char err[512];
        if (kf_tensor_spec_parse(o->shape_args[i], &in[i].spec, err, sizeof(err)) != KF_OK) {
            fprintf(stderr, "kinfer produce: --shape: %s\n", err);
            return -1;
        }
        kf_tensor_spec_t *s = &in[i].spec;
        snprintf(in[i].name, sizeof(in[i].name), "%s", s->name);
        if (o->rows_per_job) {
            if (s->rank == 0) {
                fprintf(stderr, "kinfer produce: --shape %s: a scalar has no rows\n",
                        o->shape_args[i]);
                return -1;
            }
            s->shape[0] = o->rows_per_job;
        }
        if (s->rank == 0 || s->shape[0] < 1) {
            fprintf(stderr, "kinfer produce: --shape %s: the leading dim (rows) must be >= 1\n",
                    o->shape_args[i]);
            return -1;
        }
        if (kf_tensor_bytes(s->dtype, s->rank, s->shape, MAX_JOB_BYTES, &in[i].rand_bytes) !=
            KF_OK) {
            fprintf(stderr, "kinfer produce: --shape %s: larger than %zu bytes\n", o->shape_args[i],
                    MAX_JOB_BYTES);
            return -1;
        }
        in[i].rand_buf = malloc(in[i].rand_bytes ? in[i].rand_bytes : 1);
        if (!in[i].rand_buf) {
            fprintf(stderr, "kinfer produce: out of memory\n");
            return -1;
        }
    }
    return 0;
}

static rd_kafka_conf_t *make_conf(const produce_opts_t *o, const kf_config_t *xcfg) {
    const char *const kv[][2] = {
        {"bootstrap.servers", o->bootstrap},
        {"enable.idempotence", "true"},
        {"linger.ms", "5"},
        {NULL, NULL},
    };
    return kf_cli_kafka_conf_new("produce", kv, xcfg);
}

static int run(const produce_opts_t *o, const kf_config_t *xcfg) {
    produce_input_t in[MAX_TENSORS];
    memset(in, 0, sizeof(in));
    int n_in = o->n_input_args ? o->n_input_args : o->n_shape_args;
    int rc = 1;
    int64_t rows = 0, rpj = o->rows_per_job ? o->rows_per_job : 1, chunks = 1, jobs = o->jobs;
    if (o->n_input_args) {
        rows = load_inputs(o, in);
        if (rows < 0) {
            inputs_free(in, n_in);
            return 1;
        }
        chunks = (rows + rpj - 1) / rpj;
        if (!jobs)
            jobs = chunks;
    } else {
        if (prepare_shapes(o, in)) {
            inputs_free(in, n_in);
            return 1;
        }
        if (!jobs)
            jobs = 1;
    }
    kf_job_producer_params_t pp = kf_job_producer_default_params();
    pp.topic = o->topic;
    pp.codec = o->codec;
    pp.partition = (int32_t)o->partition;
    char err[512];
    if (kf_cli_signals_install() != 0) {
        fprintf(stderr, "kinfer produce: cannot install signal handlers\n");
        inputs_free(in, n_in);
        return 1;
    }
    rd_kafka_conf_t *conf = make_conf(o, xcfg);
    kf_job_producer_t *prod = conf ? kf_job_producer_new(&pp, conf, err, sizeof(err)) : NULL;
    if (!prod) {
        if (conf)
            fprintf(stderr, "kinfer produce: %s\n", err);
        inputs_free(in, n_in);
        return 1;
    }
    kf_rng_t rng;
    kf_rng_seed(&rng, (uint64_t)o->seed);
    kf_tensor_view_t views[MAX_TENSORS];
    int64_t t0 = kf_now_us(), last_progress = t0;
    int64_t sent = 0;
    rc = 0;
    for (int64_t j = 0; j < jobs; j++) {
        for (int i = 0; i < n_in; i++) {
            kf_tensor_view_t *v = &views[i];
            memset(v, 0, sizeof(*v));
            v->name = in[i].name;
            if (in[i].arr) {
                const kf_npy_t *a = in[i].arr;
                int64_t start = (j % chunks) * rpj;
                int64_t n = rows - start < rpj ? rows - start : rpj;
                v->dtype = a->dtype;
                v->rank = a->rank;
                memcpy(v->shape, a->shape, sizeof(v->shape));
                v->shape[0] = n;
                v->data = (const uint8_t *)a->data + (size_t)start * in[i].row_bytes;
                v->nbytes = (size_t)n * in[i].row_bytes;
            } else {
                kf_random_fill(&rng, in[i].spec.dtype, in[i].rand_buf, in[i].rand_bytes);
                v->dtype = in[i].spec.dtype;
                v->rank = in[i].spec.rank;
                memcpy(v->shape, in[i].spec.shape, sizeof(v->shape));
                v->data = in[i].rand_buf;
                v->nbytes = in[i].rand_bytes;
            }
        }
        char id[256];
        snprintf(id, sizeof(id), "%s%lld", o->id_prefix, (long long)j);
        kf_request_t req = {.id = id,
                            .model = o->model,
                            .model_version = o->version,
                            .has_deadline = o->deadline_ms > 0,
                            .deadline_ms = o->deadline_ms > 0 ? kf_epoch_ms() + o->deadline_ms : 0,
                            .reply_topic = o->reply_topic,
                            .inputs = views,
                            .n_inputs = (uint32_t)n_in,
                            .metadata = o->meta,
                            .n_metadata = (uint32_t)o->n_meta};
        const char *key = NULL;
        size_t keylen = 0;
        if (!strcmp(o->key, "id")) {
            key = id;
            keylen = strlen(id);
        } else if (strcmp(o->key, "none") != 0) {
            key = o->key;
            keylen = strlen(o->key);
        }
        if (kf_job_producer_send(prod, &req, key, keylen, err, sizeof(err)) != KF_OK) {
            fprintf(stderr, "kinfer produce: %s\n", err);
            rc = 1;
            break;
        }
        sent++;
        int sig = (sent & 63) ? 0 : kf_cli_signal_take();
        if (sig) {
            fprintf(stderr, "kinfer produce: signal %d after %lld of %lld jobs: stopping\n", sig,
                    (long long)sent, (long long)jobs);
            rc = 1;
            break;
        }
        int64_t now = kf_now_us();
        if (!o->quiet && now - last_progress >= 1000000) {
            kf_job_producer_stats_t s = kf_job_producer_stats(prod);
            fprintf(stderr, "kinfer produce: %lld/%lld jobs sent, %llu delivered, %.0f jobs/s\n",
                    (long long)sent, (long long)jobs, (unsigned long long)s.delivered,
                    (double)sent * 1e6 / (double)(now - t0));
            last_progress = now;
        }
    }
    kf_status_t fst = kf_job_producer_flush(prod, 60000, err, sizeof(err));
    kf_job_producer_stats_t s = kf_job_producer_stats(prod);
    double secs = (double)(kf_now_us() - t0) / 1e6;
    if (fst != KF_OK) {
        fprintf(stderr, "kinfer produce: delivery failed: %s\n", err);
        rc = 1;
    }
    if (!o->quiet || rc)
        fprintf(stderr,
                "kinfer produce: %llu job(s), %llu bytes to %s: %llu delivered, %llu failed in "
                "%.2f s (%.0f jobs/s)\n",
                (unsigned long long)s.sent, (unsigned long long)s.bytes, o->topic,
                (unsigned long long)s.delivered, (unsigned long long)s.failed, secs,
                secs > 0 ? (double)s.delivered / secs : 0.0);
    kf_job_producer_free(prod);
    inputs_free(in, n_in);
    return rc;
}

int kf_cli_produce(int argc, char **argv) {
    enum {
        O_VERSION = 256,
        O_CODEC,
        O_SCHEMA,
        O_IDP,
        O_KEY,
        O_META,
        O_DEADLINE,
        O_REPLY,
        O_PART,
        O_SEED
    };
    static const struct option opts[] = {{"bootstrap", required_argument, NULL, 'b'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"model", required_argument, NULL, 'm'},
                                         {"version", required_argument, NULL, O_VERSION},
                                         {"input", required_argument, NULL, 'i'},
                                         {"shape", required_argument, NULL, 's'},
                                         {"rows-per-job", required_argument, NULL, 'r'},
                                         {"jobs", required_argument, NULL, 'n'},
                                         {"codec", required_argument, NULL, O_CODEC},
                                         {"schema-id", required_argument, NULL, O_SCHEMA},
                                         {"id-prefix", required_argument, NULL, O_IDP},
                                         {"key", required_argument, NULL, O_KEY},
                                         {"metadata", required_argument, NULL, O_META},
                                         {"deadline-ms", required_argument, NULL, O_DEADLINE},
                                         {"reply-topic", required_argument, NULL, O_REPLY},
                                         {"partition", required_argument, NULL, O_PART},
                                         {"seed", required_argument, NULL, O_SEED},
                                         {"property", required_argument, NULL, 'X'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    produce_opts_t o;
    memset(&o, 0, sizeof(o));
    o.id_prefix = "job-";
    o.key = "id";
    o.partition = RD_KAFKA_PARTITION_UA;
    o.seed = 1;
    o.codec = kf_codec_default_params();
    kf_config_t *xcfg = kf_config_new();
    if (!xcfg) {
        fprintf(stderr, "kinfer produce: out of memory\n");
        return 1;
    }
    int rc = 0, c;
    optind = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, "b:t:m:i:s:r:n:X:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'b': o.bootstrap = optarg; break;
        case 't': o.topic = optarg; break;
        case 'm': o.model = optarg; break;
        case O_VERSION: o.version = optarg; break;
        case 'i':
        case 's':
            if ((c == 'i' ? o.n_input_args : o.n_shape_args) == MAX_TENSORS) {
                fprintf(stderr, "kinfer produce: at most %d inputs\n", MAX_TENSORS);
                rc = 2;
            } else if (c == 'i') {
                o.input_args[o.n_input_args++] = optarg;
            } else {
                o.shape_args[o.n_shape_args++] = optarg;
            }
            break;
        case 'r':
            if (kf_cli_parse_i64(optarg, 1, INT32_MAX, &o.rows_per_job)) {
                fprintf(stderr, "kinfer produce: --rows-per-job '%s': expected >= 1\n", optarg);
                rc = 2;
            }
            break;
        case 'n':
            if (kf_cli_parse_i64(optarg, 1, INT64_MAX / 2, &o.jobs)) {
                fprintf(stderr, "kinfer produce: --jobs '%s': expected >= 1\n", optarg);
                rc = 2;
            }
            break;
        case O_CODEC:
            if (kf_framing_parse(optarg, &o.codec.framing) != KF_OK ||
                o.codec.framing == KF_FRAMING_AUTO) {
                fprintf(stderr, "kinfer produce: --codec '%s': expected raw|confluent\n", optarg);
                rc = 2;
            }
            break;
        case O_SCHEMA:
            rc = kf_cli_schema_id_parse("produce", optarg, &o.codec.request_schema_id);
            break;
        case O_IDP: o.id_prefix = optarg; break;
        case O_KEY: o.key = optarg; break;
        case O_META: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || o.n_meta == MAX_META) {
                fprintf(stderr, "kinfer produce: --metadata '%s': expected K=V (at most %d)\n",
                        optarg, MAX_META);
                rc = 2;
                break;
            }
            *eq = '\0'; /* argv strings are writable */
            o.meta[o.n_meta].key = optarg;
            o.meta[o.n_meta++].value = eq + 1;
            break;
        }
        case O_DEADLINE:
            if (kf_cli_parse_i64(optarg, 1, INT32_MAX, &o.deadline_ms)) {
                fprintf(stderr, "kinfer produce: --deadline-ms '%s': expected >= 1\n", optarg);
                rc = 2;
            }
            break;
        case O_REPLY: o.reply_topic = optarg; break;
        case O_PART:
            if (kf_cli_parse_i64(optarg, 0, INT32_MAX, &o.partition)) {
                fprintf(stderr, "kinfer produce: --partition '%s': expected >= 0\n", optarg);
                rc = 2;
            }
            break;
        case O_SEED:
            if (kf_cli_parse_i64(optarg, 0, INT64_MAX, &o.seed)) {
                fprintf(stderr, "kinfer produce: --seed '%s': expected >= 0\n", optarg);
                rc = 2;
            }
            break;
        case 'X': rc = kf_cli_property_set("produce", xcfg, optarg); break;
        case 'q': o.quiet = 1; break;
        case 'h':
            usage(stdout);
            kf_config_free(xcfg);
            return 0;
        default: rc = 2; break;
        }
    }
    rc = kf_cli_operands_check("produce", rc, optind, argc, argv);
    if (rc == 0 && (!o.bootstrap || !o.topic || !o.model)) {
        fprintf(stderr, "kinfer produce: -b/--bootstrap, -t/--topic and --model are required\n");
        rc = 2;
    }
    if (rc == 0 && !o.n_input_args == !o.n_shape_args) {
        fprintf(stderr, "kinfer produce: give either --input or --shape (not both)\n");
        rc = 2;
    }
    rc = rc ? kf_cli_usage_hint("produce") : run(&o, xcfg);
    kf_config_free(xcfg);
    return rc;
}
