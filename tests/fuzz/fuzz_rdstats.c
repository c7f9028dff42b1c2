/* Fuzz target: librdkafka statistics JSON -> consumer lag gauges.
 * Runs the raw walker and the worker metric set (which also renders), so
 * both the parser and the lag bookkeeping see hostile documents. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kf_rdstats.h"
#include "kf_worker_metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *ctx, const char *topic, int32_t partition, int64_t lag) {
    size_t *n = ctx;
    *n += (size_t)(topic[0] != '\0') + (size_t)(partition & 1) + (size_t)(lag & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t n = 0;
    (void)kf_rdstats_parse_lag((const char *)data, size, sink, &n);
    kf_metrics_t *reg = kf_metrics_new();
    kf_wmetrics_t *wm = reg ? kf_wmetrics_new(reg, NULL, 0) : NULL;
    if (wm) {
        (void)kf_wmetrics_rdkafka_stats(wm, (const char *)data, size);
        (void)kf_wmetrics_rdkafka_stats(wm, (const char *)data, size / 2);
        char *out = NULL;
        size_t len = 0;
        if (kf_metrics_render(reg, &out, &len) == KF_OK)
            free(out);
    }
    kf_wmetrics_free(wm);
    kf_metrics_free(reg);
    return 0;
}
