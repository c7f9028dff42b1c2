/* kf_cli_util: small helpers shared by the produce/consume/demo CLIs:
 * number parsing, tensor spec parsing ("input:float32:1x784"), seeded random
 * tensor fill, JSON string escaping, a monotonic clock, and the option and
 * Kafka client setup steps the Kafka CLIs share.
 * All functions are reentrant; state (the RNG) lives in the caller. */
#ifndef KF_CLI_UTIL_H
#define KF_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kf_codec.h"
#include "kf_config.h"
#include "kf_status.h"

/* Strict decimal integer in [lo, hi]; whole string. 0 on success, -1 else. */
int kf_cli_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out);

/* A tensor spec NAME:DTYPE:DIMS, DIMS = d0xd1x... (e.g. "input:float32:1x784";
 * "x:int64:" is a scalar). name is copied into `name` (NUL-terminated).
 * KF_ERR_INVALID_ARG with `err` naming the spec and the problem. */
typedef struct kf_tensor_spec {
    char name[128];
    kf_dtype_t dtype;
    uint32_t rank;
    int64_t shape[KF_MAX_RANK];
} kf_tensor_spec_t;

kf_status_t kf_tensor_spec_parse(const char *spec, kf_tensor_spec_t *out, char *err, size_t errsz);

/* Bytes of a tensor of `rank`/`shape`/`dtype`, overflow-checked against
 * `limit`; KF_ERR_LIMIT when larger. */
kf_status_t kf_tensor_bytes(kf_dtype_t dtype, uint32_t rank, const int64_t *shape, size_t limit,
                            size_t *out);

/* xorshift64* state; seed 0 is replaced by a fixed non-zero constant. */
typedef struct kf_rng {
    uint64_t s;
} kf_rng_t;
void kf_rng_seed(kf_rng_t *r, uint64_t seed);
uint64_t kf_rng_next(kf_rng_t *r);

/* Fills `n` bytes of `dtype` elements with random values that are finite
 * and valid for the dtype (floats in [-1, 1), bools 0/1, ints small). */
void kf_random_fill(kf_rng_t *r, kf_dtype_t dtype, void *data, size_t nbytes);

/* Writes s (n bytes, may contain NULs or non-UTF-8) as a JSON string with
 * quotes; control characters, quote and backslash are escaped, bytes >=
 * 0x80 that are not valid UTF-8 become \u00XX. */
void kf_json_write_str(FILE *out, const char *s, size_t n);

/* SIGINT/SIGTERM for the CLIs: kf_cli_signals_install() installs a handler
 * that only records the signal number in a process-wide sig_atomic_t (the
 * one global a signal handler may touch; blocking the signals instead does
 * not work because threads started by libraries at load time, e.g.
 * OpenBLAS's pool, leave them unblocked). The CLI's loop calls
 * kf_cli_signal_take() and stops cleanly. Main thread only. */
int kf_cli_signals_install(void);
/* Returns the recorded signal number (and clears it), or 0 when none. */
int kf_cli_signal_take(void);

/* Option and Kafka client helpers of the CLIs. `cli` is the subcommand
 * ("consume"); messages go to stderr as "kinfer <cli>: ...". The option
 * helpers return 0, or 2 (a usage error) after their message. */

/* -X/--property KEY=VALUE: stores the librdkafka property in xcfg. */
int kf_cli_property_set(const char *cli, kf_config_t *xcfg, const char *arg);
/* --schema-id K: K in 0..INT32_MAX into *out (left alone on error). */
int kf_cli_schema_id_parse(const char *cli, const char *arg, int32_t *out);
/* After getopt: an operand left (argv[first], first = optind) is refused.
 * rc is the parsing status so far and is returned when it is not 0. */
int kf_cli_operands_check(const char *cli, int rc, int first, int argc, char **argv);
/* Prints the "--help lists the options" hint; returns 2. */
int kf_cli_usage_hint(const char *cli);

/* A new librdkafka conf: the properties kv ({KEY, VALUE} pairs, ended by
 * {NULL, NULL}), then the -X properties of xcfg over them. NULL after a
 * message on stderr. The caller owns the conf (rd_kafka_new takes it). */
rd_kafka_conf_t *kf_cli_kafka_conf_new(const char *cli, const char *const (*kv)[2],
                                       const kf_config_t *xcfg);

/* Fills *t and *req (both zeroed first) for a one-row float32 job: input
 * "input" of shape [1, feat] at x, the given id and model; req->inputs is
 * t. Nothing is copied: t, x, id and model must outlive the use of req. */
void kf_cli_row_request_init(kf_request_t *req, kf_tensor_view_t *t, const char *id,
                             const char *model, const float *x, int64_t feat);

/* One rd_kafka_producev of value (copied) with key to topic/partition,
 * with a header `hdr` holding the send time (kf_now_us(), an int64_t in
 * host byte order). Returns librdkafka's error; on
 * RD_KAFKA_RESP_ERR__QUEUE_FULL the caller polls and tries again. */
rd_kafka_resp_err_t kf_cli_stamped_produce(rd_kafka_t *p, const char *topic, int32_t partition,
                                           const void *key, size_t key_len, const void *value,
                                           size_t len, const char *hdr);
/* The send time in header `hdr` of m (kf_cli_stamped_produce), 0 when
 * absent. */
int64_t kf_cli_stamp_read(const rd_kafka_message_t *m, const char *hdr);

/* qsort comparator of int64_t values, ascending. */
int kf_cli_cmp_i64(const void *a, const void *b);

/* Monotonic microseconds. */
int64_t kf_now_us(void);
/* Wall clock Unix epoch milliseconds. */
int64_t kf_epoch_ms(void);

#endif
