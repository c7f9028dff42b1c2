/* `kinfer consume`: read inference results (schemas/inference_result.avsc),
 * print one JSON line per result on stdout, optionally write each output
 * tensor as DIR/<id>/<name>.npy. Stops after --max results or after
 * --timeout-ms without a new one.
 *
 * Without -g it assigns every partition of the topic directly (no group
 * join, no commits); with -g it joins that consumer group and commits. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "kf_cli_util.h"
#include "kf_codec.h"
#include "kf_config.h"
#include "kf_npy.h"

typedef struct consume_opts {
    const char *bootstrap, *topic, *group, *out_dir;
    kf_codec_params_t codec;
    int64_t max;        /* 0 = unlimited */
    int64_t timeout_ms; /* idle timeout */
    int from_beginning, quiet;
} consume_opts_t;

typedef struct consume_counts {
    int64_t results, bad_records, write_errors;
} consume_counts_t;

static void usage(FILE *out) {
    fprintf(out,
            "usage: kinfer consume -b BOOTSTRAP -t TOPIC [-g GROUP] [--codec raw|confluent|auto]\n"
            "                      [--schema-id K] [--max N] [--timeout-ms T] [--out-dir DIR]\n"
            "                      [--from-beginning] [-X KEY=VALUE]...\n"
            "\n"
            "Reads inference results and prints one JSON line per result: id, status, error,\n"
            "model, version, outputs (name, dtype, shape), batch_size, queue_us, compute_us,\n"
            "worker, source topic/partition/offset, metadata, and where the result record\n"
            "itself was read (record). Exits after --max results, or after --timeout-ms with\n"
            "no new result; exit 1 when fewer than --max arrived or a record did not decode.\n"
            "\n"
            "options:\n"
            "  -b, --bootstrap HOST:PORT    Kafka bootstrap servers (required)\n"
            "  -t, --topic TOPIC            results topic (required)\n"
            "  -g, --group GROUP            join consumer group GROUP and commit (default: read\n"
            "                               every partition directly, no group, no commits)\n"
            "      --codec raw|confluent|auto  framing (default raw)\n"
            "      --schema-id K            Confluent schema id of results (default 2)\n"
            "  -n, --max N                  stop after N results\n"
            "      --timeout-ms T           stop after T ms without a new result (default 10000)\n"
            "  -o, --out-dir DIR            write outputs as DIR/<id>/<output name>.npy (ids and\n"
            "                               names are sanitised to [A-Za-z0-9._-])\n"
            "      --from-beginning         start at the oldest record (default: newest)\n"
            "  -X, --property KEY=VALUE     librdkafka property (repeatable)\n"
            "  -q, --quiet                  no progress or summary on stderr\n"
            "  -h, --help                   this help\n");
}

/* Copies s into a file-name-safe form: [A-Za-z0-9._-], others -> '_'; never
 * empty, "." or "..". */
static void safe_name(const char *s, char *out, size_t outsz, const char *fallback) {
    size_t j = 0;
    for (size_t i = 0; s && s[i] && j + 1 < outsz; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        out[j++] = ok ? c : '_';
    }
    out[j] = '\0';
    if (j == 0 || !strcmp(out, ".") || !strcmp(out, ".."))
        snprintf(out, outsz, "%s", fallback);
}

static int mkdir_p(const char *path) {
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return (mkdir(buf, 0777) != 0 && errno != EEXIST) ? -1 : 0;
}

static void print_str(const char *s) {
    if (s)
        kf_json_write_str(stdout, s, strlen(s));
    else
        fputs("null", stdout);
}

static void print_result(const kf_result_t *r, const rd_kafka_message_t *m) {
    fputs("{\"id\":", stdout);
    print_str(r->id);
    fputs(",\"status\":", stdout);
    print_str(kf_result_status_name(r->status));
    fputs(",\"error\":", stdout);
    print_str(r->error);
    fputs(",\"model\":", stdout);
    print_str(r->model);
    fputs(",\"version\":", stdout);
    print_str(r->model_version);
    fputs(",\"outputs\":[", stdout);
    for (uint32_t i = 0; i < r->n_outputs; i++) {
        const kf_tensor_view_t *t = &r->outputs[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
        print_str(t->name);
        fputs(",\"dtype\":", stdout);
        print_str(kf_dtype_name(t->dtype));
        fputs(",\"shape\":[", stdout);
        for (uint32_t d = 0; d < t->rank; d++)
            printf(d ? ",%lld" : "%lld", (long long)t->shape[d]);
        printf("],\"bytes\":%zu}", t->nbytes);
    }
    printf("],\"batch_size\":%d,\"queue_us\":%lld,\"compute_us\":%lld,\"worker\":",
           (int)r->batch_size, (long long)r->queue_us, (long long)r->compute_us);
    print_str(r->worker);
    fputs(",\"source\":{\"topic\":", stdout);
    print_str(r->source_topic);
    printf(",\"partition\":%d,\"offset\":%lld},\"metadata\":{", (int)r->source_partition,
           (long long)r->source_offset);
    for (uint32_t i = 0; i < r->n_metadata; i++) {
        if (i)
            fputc(',', stdout);
        print_str(r->metadata[i].key);
        fputc(':', stdout);
        print_str(r->metadata[i].value);
    }
    fputs("},\"record\":{\"topic\":", stdout);
    print_str(rd_kafka_topic_name(m->rkt));
    printf(",\"partition\":%d,\"offset\":%lld}}\n", (int)m->partition, (long long)m->offset);
}

static int write_outputs(const consume_opts_t *o, const kf_result_t *r) {
    char id[256], dir[4096];
    safe_name(r->id, id, sizeof(id), "_");
    if (snprintf(dir, sizeof(dir), "%s/%s", o->out_dir, id) >= (int)sizeof(dir) ||
        mkdir_p(dir) != 0) {
        fprintf(stderr, "kinfer consume: result '%s': cannot create %s: %s\n", r->id, dir,
                strerror(errno));
        return -1;
    }
    int bad = 0;
    for (uint32_t i = 0; i < r->n_outputs; i++) {
        const kf_tensor_view_t *t = &r->outputs[i];
        char fallback[32], name[256], path[4608], err[512];
        snprintf(fallback, sizeof(fallback), "output%u", i);
        safe_name(t->name, name, sizeof(name), fallback);
        snprintf(path, sizeof(path), "%s/%s.npy", dir, name);
        if (kf_npy_save_file(path, t->dtype, t->rank, t->shape, t->data, t->nbytes, err,
                             sizeof(err)) != KF_OK) {
            fprintf(stderr, "kinfer consume: result '%s' output '%s': %s\n", r->id, t->name, err);
            bad = -1;
        }
    }
    return bad;
}

/* Assigns all partitions of o->topic (no group). */
static int assign_all(rd_kafka_t *rk, const consume_opts_t *o) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, o->topic, NULL);
    if (!rkt) {
        fprintf(stderr, "kinfer consume: topic '%s': %s\n", o->topic,
                rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    int64_t deadline = kf_now_us() + (o->timeout_ms > 5000 ? o->timeout_ms : 5000) * 1000;
    int rc = -1;
    for (;;) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 2000);
        if (!e && md->topic_cnt == 1 && !md->topics[0].err && md->topics[0].partition_cnt > 0) {
            int n = md->topics[0].partition_cnt;
            rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
            for (int i = 0; i < n; i++)
                rd_kafka_topic_partition_list_add(l, o->topic, md->topics[0].partitions[i].id)
                    ->offset = o->from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
            e = rd_kafka_assign(rk, l);
            rd_kafka_topic_partition_list_destroy(l);
            rd_kafka_metadata_destroy(md);
            if (e)
                fprintf(stderr, "kinfer consume: assign %s: %s\n", o->topic, rd_kafka_err2str(e));
            else
                rc = 0;
            break;
        }
        const char *why =
            e ? rd_kafka_err2str(e)
              : (md->topic_cnt == 1 && md->topics[0].err ? rd_kafka_err2str(md->topics[0].err)
                                                         : "no partitions");
        if (md)
            rd_kafka_metadata_destroy(md);
        if (kf_now_us() > deadline) {
            fprintf(stderr, "kinfer consume: topic '%s' metadata: %s\n", o->topic, why);
            break;
        }
        rd_kafka_poll(rk, 200);
    }
    rd_kafka_topic_destroy(rkt);
    return rc;
}

static rd_kafka_t *make_consumer(const consume_opts_t *o, const kf_config_t *xcfg) {
    char err[512], group[128];
    if (o->group)
        snprintf(group, sizeof(group), "%s", o->group);
    else
        snprintf(group, sizeof(group), "kinfer-consume-%lld", (long long)kf_epoch_ms());
    const char *const kv[][2] = {
        {"bootstrap.servers", o->bootstrap},
        {"group.id", group},
        {"enable.auto.commit", o->group ? "true" : "false"},
        {"auto.offset.reset", o->from_beginning ? "earliest" : "latest"},
        {"session.timeout.ms", "6000"},
        {NULL, NULL},
    };
    rd_kafka_conf_t *conf = kf_cli_kafka_conf_new("consume", kv, xcfg);
    if (!conf)
        return NULL;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "kinfer consume: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    if (o->group) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, o->topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (e) {
            fprintf(stderr, "kinfer consume: subscribe %s: %s\n", o->topic, rd_kafka_err2str(e));
            rd_kafka_destroy(rk);
            return NULL;
        }
    } else if (assign_all(rk, o) != 0) {
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

static int run(const consume_opts_t *o, const kf_config_t *xcfg) {
    if (o->out_dir && mkdir_p(o->out_dir) != 0) {
        fprintf(stderr, "kinfer consume: --out-dir %s: %s\n", o->out_dir, strerror(errno));
        return 1;
    }
    if (kf_cli_signals_install() != 0) {
        fprintf(stderr, "kinfer consume: cannot install signal handlers\n");
        return 1;
    }
    rd_kafka_t *rk = make_consumer(o, xcfg);
    if (!rk)
        return 1;
    int sig = 0;
    consume_counts_t n = {0, 0, 0};
    int64_t t0 = kf_now_us(), last_new = t0, last_progress = t0;
    while (!o->max || n.results < o->max) {
        int64_t now = kf_now_us();
        if (now - last_new >= o->timeout_ms * 1000)
            break;
        if ((sig = kf_cli_signal_take()) != 0) {
            if (!o->quiet)
                fprintf(stderr, "kinfer consume: signal %d: stopping\n", sig);
            break;
        }
        if (!o->quiet && now - last_progress >= 2000000) {
            fprintf(stderr, "kinfer consume: %lld result(s) so far\n", (long long)n.results);
            last_progress = now;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "kinfer consume: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        last_new = kf_now_us();
        kf_result_t *r = NULL;
        kf_codec_error_t cerr;
        memset(&cerr, 0, sizeof(cerr));
        if (kf_codec_decode_result(&o->codec, m->payload, m->len, &r, &cerr) != KF_OK) {
            fprintf(stderr, "kinfer consume: %s [%d] offset %lld: cannot decode result: %s\n",
                    rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset, cerr.msg);
            n.bad_records++;
            rd_kafka_message_destroy(m);
            continue;
        }
        print_result(r, m);
        fflush(stdout);
        if (o->out_dir && write_outputs(o, r) != 0)
            n.write_errors++;
        n.results++;
        kf_result_free(r);
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    int short_count = o->max && n.results < o->max;
    if (!o->quiet || short_count || n.bad_records || n.write_errors)
        fprintf(stderr,
                "kinfer consume: %lld result(s)%s, %lld undecodable record(s), %lld write "
                "error(s) in %.2f s\n",
                (long long)n.results, short_count ? " (fewer than --max)" : "",
                (long long)n.bad_records, (long long)n.write_errors,
                (double)(kf_now_us() - t0) / 1e6);
    return (short_count || n.bad_records || n.write_errors) ? 1 : 0;
}

int kf_cli_consume(int argc, char **argv) {
    enum { O_CODEC = 256, O_SCHEMA, O_TIMEOUT, O_BEGIN };
    static const struct option opts[] = {{"bootstrap", required_argument, NULL, 'b'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"group", required_argument, NULL, 'g'},
                                         {"codec", required_argument, NULL, O_CODEC},
                                         {"schema-id", required_argument, NULL, O_SCHEMA},
                                         {"max", required_argument, NULL, 'n'},
                                         {"timeout-ms", required_argument, NULL, O_TIMEOUT},
                                         {"out-dir", required_argument, NULL, 'o'},
                                         {"from-beginning", no_argument, NULL, O_BEGIN},
                                         {"property", required_argument, NULL, 'X'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    consume_opts_t o;
    memset(&o, 0, sizeof(o));
    o.codec = kf_codec_default_params();
    o.timeout_ms = 10000;
    kf_config_t *xcfg = kf_config_new();
    if (!xcfg) {
        fprintf(stderr, "kinfer consume: out of memory\n");
        return 1;
    }
    int rc = 0, c;
    optind = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, "b:t:g:n:o:X:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'b': o.bootstrap = optarg; break;
        case 't': o.topic = optarg; break;
        case 'g': o.group = optarg; break;
        case 'o': o.out_dir = optarg; break;
        case O_BEGIN: o.from_beginning = 1; break;
        case 'q': o.quiet = 1; break;
        case O_CODEC:
            if (kf_framing_parse(optarg, &o.codec.framing) != KF_OK) {
                fprintf(stderr, "kinfer consume: --codec '%s': expected raw|confluent|auto\n",
                        optarg);
                rc = 2;
            }
            break;
        case O_SCHEMA:
            rc = kf_cli_schema_id_parse("consume", optarg, &o.codec.result_schema_id);
            break;
        case 'n':
            if (kf_cli_parse_i64(optarg, 1, INT64_MAX, &o.max)) {
                fprintf(stderr, "kinfer consume: --max '%s': expected >= 1\n", optarg);
                rc = 2;
            }
            break;
        case O_TIMEOUT:
            if (kf_cli_parse_i64(optarg, 1, 86400000, &o.timeout_ms)) {
                fprintf(stderr, "kinfer consume: --timeout-ms '%s': expected 1..86400000\n",
                        optarg);
                rc = 2;
            }
            break;
        case 'X': rc = kf_cli_property_set("consume", xcfg, optarg); break;
        case 'h':
            usage(stdout);
            kf_config_free(xcfg);
            return 0;
        default: rc = 2; break;
        }
    }
    rc = kf_cli_operands_check("consume", rc, optind, argc, argv);
    if (rc == 0 && (!o.bootstrap || !o.topic)) {
        fprintf(stderr, "kinfer consume: -b/--bootstrap and -t/--topic are required\n");
        rc = 2;
    }
    rc = rc ? kf_cli_usage_hint("consume") : run(&o, xcfg);
    kf_config_free(xcfg);
    return rc;
}
