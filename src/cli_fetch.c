/* `kinfer fetch`: download and verify one artifact (or one model version
 * of a repository) into the local cache and print where it is. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "kf_artifact_cache.h"
#include "kf_artifact_repo.h"
#include "kf_log.h"

static void usage(FILE *f) {
    fprintf(f, "usage: kinfer fetch BASE_URL|URL [options]\n"
               "\n"
               "Downloads an artifact into the local cache (revalidating a cached copy with its\n"
               "ETag), verifies its SHA-256 and prints key=value lines: path, sha256, size,\n"
               "source (downloaded|revalidated|cache-hit|cache-offline) and, with --model,\n"
               "model, version and verified. URL: http://, https://, s3://bucket/key, file://\n"
               "or a path. With --model, BASE_URL is a repository:\n"
               "{base}/{model}/{version}/model.onnx (+ optional model.onnx.sha256) and\n"
               "{base}/{model}/LATEST naming the newest version.\n"
               "\n"
               "options:\n"
               "  --model NAME            fetch from the repository at BASE_URL\n"
               "  --version V             that version (default: the one LATEST names)\n"
               "  --cache-dir DIR         cache directory (default $KINFER_CACHE_DIR,\n"
               "                          $XDG_CACHE_HOME/kinfer or ~/.cache/kinfer)\n"
               "  --sha256 HEX            expected digest (mismatch = error naming both)\n"
               "  --watch-ms N            with --model: keep polling LATEST for N ms (0 =\n"
               "                          until killed), printing one line per new version\n"
               "                          (event=swap ...) or rejected one (event=error ...)\n"
               "  --poll-ms N             poll interval for --watch-ms (default 30000)\n"
               "  --no-offline            fail instead of serving a cached copy when the\n"
               "                          store is unreachable\n"
               "  --timeout-ms N          limit for one attempt (default: none)\n"
               "  --connect-timeout-ms N  connect limit (default 5000)\n"
               "  --stall-timeout-ms N    abort an attempt idle this long (default 30000)\n"
               "  --retries N             retries on 5xx/429/connection errors (default 4)\n"
               "  --backoff-ms N          first retry delay, doubled per retry (default 200)\n"
               "  --backoff-max-ms N      largest retry delay (default 5000)\n"
               "  --max-bytes N           size cap (default 4 GiB; 0 = none)\n"
               "  --ca-file PEM           CA bundle for https (default: system store)\n"
               "  --s3-endpoint URL       S3 endpoint (e.g. MinIO); default AWS\n"
               "  --s3-region R           signing region (default $AWS_REGION or us-east-1)\n"
               "  --s3-path-style         {endpoint}/{bucket}/{key} (default with an endpoint)\n"
               "  --s3-virtual-hosted     {bucket}.{host}/{key}\n"
               "  --log-level L           debug|info|warn|error|off (default info)\n"
               "  -h, --help              this help\n"
               "\n"
               "S3 credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.\n"
               "Exit status: 0 ok, 1 fetch/verify failed, 2 usage error.\n");
}

static int parse_long(const char *opt, const char *s, long *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0) {
        fprintf(stderr, "kinfer fetch: --%s wants a non-negative integer, got '%s'\n", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

enum {
    O_MODEL = 256,
    O_VERSION,
    O_CACHE,
    O_SHA,
    O_NOOFF,
    O_TMO,
    O_CTMO,
    O_STALL,
    O_RETRIES,
    O_BACKOFF,
    O_BACKMAX,
    O_MAXB,
    O_S3EP,
    O_S3REG,
    O_S3PATH,
    O_S3VH,
    O_LOG,
    O_WATCH,
    O_POLL,
    O_CA
};

/* --watch: the poller thread prints one line per event */
static kf_status_t watch_swap(void *user, const char *model, const kf_repo_version_t *v,
                              char *errstr, size_t errstr_size) {
    (void)user, (void)errstr, (void)errstr_size;
    printf("event=swap model=%s version=%s sha256=%s verified=%s path=%s\n", model, v->version,
           v->sha256, v->verified ? "yes" : "no", v->path);
    fflush(stdout);
    return KF_OK;
}

static void watch_error(void *user, const char *model, const char *version, const char *reason,
                        const char *errstr) {
    (void)user;
    printf("event=error model=%s version=%s reason=%s error=%s\n", model, version ? version : "-",
           reason, errstr);
    fflush(stdout);
}

int kf_cli_fetch(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, NULL, O_MODEL},
        {"version", required_argument, NULL, O_VERSION},
        {"cache-dir", required_argument, NULL, O_CACHE},
        {"sha256", required_argument, NULL, O_SHA},
        {"no-offline", no_argument, NULL, O_NOOFF},
        {"timeout-ms", required_argument, NULL, O_TMO},
        {"connect-timeout-ms", required_argument, NULL, O_CTMO},
        {"stall-timeout-ms", required_argument, NULL, O_STALL},
        {"retries", required_argument, NULL, O_RETRIES},
        {"backoff-ms", required_argument, NULL, O_BACKOFF},
        {"backoff-max-ms", required_argument, NULL, O_BACKMAX},
        {"max-bytes", required_argument, NULL, O_MAXB},
        {"s3-endpoint", required_argument, NULL, O_S3EP},
        {"s3-region", required_argument, NULL, O_S3REG},
        {"s3-path-style", no_argument, NULL, O_S3PATH},
        {"s3-virtual-hosted", no_argument, NULL, O_S3VH},
        {"log-level", required_argument, NULL, O_LOG},
        {"watch-ms", required_argument, NULL, O_WATCH},
        {"poll-ms", required_argument, NULL, O_POLL},
        {"ca-file", required_argument, NULL, O_CA},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    kf_cache_params_t cp = kf_cache_default_params();
    const char *model = NULL, *version = NULL, *sha = NULL;
    kf_log_params_t lp = kf_log_default_params();
    lp.component = "fetch";
    long v, watch_ms = -1, poll_ms = 30000;
    int c, li = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return 0;
        case O_MODEL: model = optarg; break;
        case O_VERSION: version = optarg; break;
        case O_CACHE: cp.dir = optarg; break;
        case O_SHA: sha = optarg; break;
        case O_NOOFF: cp.offline_ok = 0; break;
        case O_CA: cp.fetch.ca_file = optarg; break;
        case O_S3EP: cp.fetch.s3.endpoint = optarg; break;
        case O_S3REG: cp.fetch.s3.region = optarg; break;
        case O_S3PATH: cp.fetch.s3.path_style = 1; break;
        case O_S3VH: cp.fetch.s3.path_style = 0; break;
        case O_LOG:
            if (kf_log_level_parse(optarg, &lp.level) != KF_OK) {
                fprintf(stderr, "kinfer fetch: --log-level: unknown level '%s'\n", optarg);
                return 2;
            }
            break;
        case O_TMO:
        case O_CTMO:
        case O_STALL:
        case O_RETRIES:
        case O_BACKOFF:
        case O_BACKMAX:
        case O_MAXB:
        case O_WATCH:
        case O_POLL:
            if (parse_long(opts[li].name, optarg, &v) != 0)
                return 2;
            if (c == O_TMO)
                cp.fetch.timeout_ms = v;
            else if (c == O_CTMO)
                cp.fetch.connect_timeout_ms = v;
            else if (c == O_STALL)
                cp.fetch.stall_timeout_ms = v;
            else if (c == O_RETRIES)
                cp.fetch.max_retries = (int)(v > 100 ? 100 : v);
            else if (c == O_BACKOFF)
                cp.fetch.backoff_initial_ms = v;
            else if (c == O_BACKMAX)
                cp.fetch.backoff_max_ms = v;
            else if (c == O_WATCH)
                watch_ms = v;
            else if (c == O_POLL)
                poll_ms = v > 0 ? v : 1;
            else
                cp.fetch.max_bytes = (uint64_t)v;
            break;
        default:
            fprintf(stderr, "kinfer fetch: unknown or incomplete option '%s' (try --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "kinfer fetch: want exactly one BASE_URL or URL (try --help)\n");
        return 2;
    }
    if (watch_ms >= 0 && (!model || version)) {
        fprintf(stderr, "kinfer fetch: --watch-ms needs --model and no --version\n");
        return 2;
    }
    if (version && !model) {
        fprintf(stderr, "kinfer fetch: --version needs --model\n");
        return 2;
    }
    char want[KF_SHA256_HEX_LEN + 1] = "";
    if (sha && kf_sha256_parse_hex(sha, strlen(sha), want) != KF_OK) {
        fprintf(stderr, "kinfer fetch: --sha256: '%s' is not 64 hex digits\n", sha);
        return 2;
    }
    const char *url = argv[optind];

    kf_logger_t *lg = kf_logger_new(&lp);
    if (!lg) {
        fprintf(stderr, "kinfer fetch: out of memory\n");
        return 1;
    }
    cp.log = lg;
    cp.fetch.log = lg;
    char err[2048];
    int rc = 1;
    kf_repo_t *repo = NULL;
    kf_cache_t *cache = kf_cache_new(&cp, err, sizeof(err));
    if (!cache) {
        fprintf(stderr, "kinfer fetch: %s\n", err);
        goto out;
    }
    if (model) {
        kf_repo_params_t rp = kf_repo_default_params();
        rp.base_url = url;
        rp.model = model;
        rp.cache = cache;
        rp.log = lg;
        rp.poll_interval_ms = poll_ms;
        rp.on_version = watch_swap;
        rp.on_error = watch_error;
        repo = kf_repo_new(&rp, err, sizeof(err));
        if (!repo) {
            fprintf(stderr, "kinfer fetch: %s\n", err);
            goto out;
        }
        kf_repo_version_t rv;
        kf_status_t st =
            kf_repo_fetch_version(repo, version, want[0] ? want : NULL, &rv, err, sizeof(err));
        if (st != KF_OK) {
            fprintf(stderr, "kinfer fetch: model %s: %s\n", model, err);
            goto out;
        }
        if (rv.offline)
            kf_log(lg, KF_LOG_WARN, "model %s version %s: served from the cache (store offline)",
                   model, rv.version);
        printf("model=%s\nversion=%s\npath=%s\nsha256=%s\nverified=%s\nsource=%s\noffline=%s\n",
               model, rv.version, rv.path, rv.sha256, rv.verified ? "yes" : "no",
               kf_cache_source_str(rv.source), rv.offline ? "yes" : "no");
        if (watch_ms >= 0) {
            fflush(stdout);
            if (kf_repo_start(repo, rv.version) != KF_OK) {
                fprintf(stderr, "kinfer fetch: cannot start the poller\n");
                goto out;
            }
            for (long left = watch_ms; watch_ms == 0 || left > 0; left -= 100) {
                struct timespec ts = {0, 100 * 1000000L};
                nanosleep(&ts, NULL);
            }
            kf_repo_stop(repo);
            kf_repo_stats_t rs;
            kf_repo_get_stats(repo, &rs);
            printf("polls=%llu changes=%llu swaps=%llu fetch_failures=%llu current=%s\n",
                   (unsigned long long)rs.polls, (unsigned long long)rs.changes,
                   (unsigned long long)rs.swaps, (unsigned long long)rs.fetch_failures, rs.current);
        }
    } else {
        kf_cache_entry_t e;
        kf_status_t st = kf_cache_get(cache, url, want[0] ? want : NULL, &e, err, sizeof(err));
        if (st != KF_OK) {
            fprintf(stderr, "kinfer fetch: %s\n", err);
            goto out;
        }
        printf("path=%s\nsha256=%s\nsize=%llu\nsource=%s\nverified=%s\n", e.path, e.sha256,
               (unsigned long long)e.size, kf_cache_source_str(e.source), want[0] ? "yes" : "no");
    }
    rc = 0;
out:
    kf_repo_free(repo);
    kf_cache_free(cache);
    kf_logger_free(lg);
    return rc;
}
