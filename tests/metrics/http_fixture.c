/* Test fixture for metrics_http.py: a kf_http server on a free loopback
 * port over the worker metric set, driven by commands on stdin:
 *   job MODEL STATUS N   count N jobs (one kf_wmetrics_job call each)
 *   ready 0|1            what the readiness callback answers
 *   stats FILE           feed a librdkafka statistics JSON document
 *   quit                 stop and exit 0
 * Prints "port N" first, then "ok" after each command. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kf_http.h"
#include "kf_worker_metrics.h"

static int ready_cb(void *ctx, char *reason, size_t size) {
    atomic_int *ready = ctx;
    if (atomic_load(ready))
        return 1;
    snprintf(reason, size, "no partitions assigned");
    return 0;
}

static int feed_stats(kf_wmetrics_t *wm, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    int rc = buf && kf_wmetrics_rdkafka_stats(wm, buf, n) == KF_OK ? 0 : -1;
    free(buf);
    return rc;
}

int main(void) {
    char err[256];
    atomic_int ready = 0;
    kf_metrics_t *reg = kf_metrics_new();
    kf_wmetrics_t *wm = reg ? kf_wmetrics_new(reg, err, sizeof(err)) : NULL;
    if (!wm) {
        fprintf(stderr, "fixture: %s\n", reg ? err : "out of memory");
        return 1;
    }
    kf_http_params_t p = kf_http_default_params();
    p.port = KF_HTTP_PORT_ANY;
    p.bind_address = "127.0.0.1";
    p.metrics = reg;
    p.ready = ready_cb;
    p.ready_ctx = &ready;
    kf_http_t *h = kf_http_new(&p, err, sizeof(err));
    if (!h) {
        fprintf(stderr, "fixture: %s\n", err);
        return 1;
    }
    printf("port %d\n", kf_http_port(h));
    fflush(stdout);
    char line[512];
    int rc = 0;
    while (fgets(line, sizeof(line), stdin)) {
        char a[200], b[200];
        long n = 0;
        int flag = 0;
        if (strncmp(line, "quit", 4) == 0)
            break;
        if (sscanf(line, "job %199s %199s %ld", a, b, &n) == 3) {
            for (long i = 0; i < n; i++)
                kf_wmetrics_job(wm, a, b, 10, 20, 30 + i);
        } else if (sscanf(line, "ready %d", &flag) == 1) {
            atomic_store(&ready, flag);
        } else if (sscanf(line, "stats %199s", a) == 1) {
            if (feed_stats(wm, a) != 0) {
                fprintf(stderr, "fixture: bad stats file %s\n", a);
                rc = 1;
            }
        } else {
            fprintf(stderr, "fixture: unknown command: %s", line);
            rc = 1;
        }
        printf("ok\n");
        fflush(stdout);
    }
    kf_http_free(h);
    kf_wmetrics_free(wm);
    kf_metrics_free(reg);
    return rc;
}
