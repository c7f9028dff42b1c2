/* kf_rdstats: reads consumer lag out of librdkafka's statistics JSON.
 *
 * librdkafka emits a statistics document (tens of KiB) every
 * statistics.interval.ms through its stats_cb. We need one number per
 * partition: topics.<topic>.partitions.<id>.consumer_lag. Rather than add a
 * JSON library and build a tree for the whole document, this is a small
 * streaming recursive-descent walker: it validates the JSON grammar, skips
 * every value off that path without allocating, and reports the numbers on
 * it. Nesting is capped (KF_RDSTATS_MAX_DEPTH) so hostile input cannot blow
 * the stack; the walker never reads past `len`.
 *
 * Stateless and reentrant: any thread may call it. */
#ifndef KF_RDSTATS_H
#define KF_RDSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "kf_status.h"

#define KF_RDSTATS_MAX_DEPTH 64

/* Called once per (topic, partition) with a consumer_lag field; partition -1
 * (librdkafka's internal "unassigned" partition) is not reported. lag is -1
 * when librdkafka does not know it yet. `topic` is valid only during the
 * call. */
typedef void (*kf_rdstats_lag_fn)(void *ctx, const char *topic, int32_t partition, int64_t lag);

/* Walks `json` (len bytes, need not be NUL-terminated) and calls fn for each
 * partition lag. Returns KF_OK, or KF_ERR_DECODE on malformed JSON / too deep
 * nesting (callbacks made before the error stand). */
kf_status_t kf_rdstats_parse_lag(const char *json, size_t len, kf_rdstats_lag_fn fn, void *ctx);

#endif
