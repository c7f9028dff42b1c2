/* kf_codec: the wire contract (schemas/inference_request.avsc and
 * schemas/inference_result.avsc) — decode requests, encode results, and the
 * reverse directions for the produce/consume tools and tests.
 *
 * Framing: raw Avro binary, or the Confluent wire format (0x00 + 4-byte
 * big-endian schema id + Avro body). With KF_FRAMING_AUTO a message is taken
 * as Confluent when byte 0 is 0x00 and the next 4 bytes equal the configured
 * schema id, else as raw Avro. A CONFLUENT message (or an AUTO message
 * starting with 0x00 followed by a different id, when it also fails to decode
 * as raw) with another schema id is an error naming both ids.
 *
 * Decoding is a hand-written validating decoder for the fixed schemas
 * (tests check it against Avro C's generic decoder). Everything is checked
 * before any allocation sized by input: message size, rank <= 8, dims >= 0
 * (leading dim >= 1 for request inputs), element count (overflow-safe),
 * data length == product(shape) * sizeof(dtype), enum symbol and union
 * branch indexes, negative / truncated lengths and varints, tensor and
 * metadata entry counts, and trailing bytes after the record.
 *
 * Zero copy: tensor `data` pointers of a decoded request/result point INTO
 * the message buffer passed to the decoder; the caller keeps that buffer
 * (e.g. the rd_kafka_message_t) alive and unchanged for as long as it uses
 * the decoded object. Tensor data may be unaligned: memcpy it, do not cast it
 * to float*. Strings are copied, NUL-terminated, into the object's own
 * allocation (one malloc per decoded object, freed by *_free).
 *
 * Threads: all functions are reentrant; params and inputs are read-only,
 * outputs belong to the caller. A kf_buf_t or decoded object is used by one
 * thread at a time. */
#ifndef KF_CODEC_H
#define KF_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "kf_avro_bin.h"
#include "kf_dtype.h"
#include "kf_status.h"

#define KF_MAX_RANK 8

/* ---- framing and params -------------------------------------------------- */

typedef enum kf_framing {
    KF_FRAMING_RAW = 0,
    KF_FRAMING_CONFLUENT,
    KF_FRAMING_AUTO /* decode: detect; encode: writes RAW */
} kf_framing_t;

/* "raw" | "confluent" | "auto" (case-insensitive). KF_ERR_CONFIG otherwise. */
kf_status_t kf_framing_parse(const char *s, kf_framing_t *out);
/* Static name ("raw"); "invalid" for an out-of-range value. */
const char *kf_framing_name(kf_framing_t f);

typedef struct kf_codec_params {
    kf_framing_t framing;      /* default KF_FRAMING_RAW */
    int32_t request_schema_id; /* Confluent id of requests (default 1) */
    int32_t result_schema_id;  /* Confluent id of results (default 2) */
    size_t max_message_bytes;  /* whole message incl. framing (default 64 MiB) */
    uint32_t max_tensors;      /* inputs/outputs per message (default 64) */
    uint32_t max_metadata;     /* metadata map entries (default 64) */
    uint64_t max_elements;     /* elements per tensor (default 1<<28) */
} kf_codec_params_t;

kf_codec_params_t kf_codec_default_params(void);

/* ---- errors ---------------------------------------------------------------- */

/* Filled by every decoder/encoder on failure. msg names the field, e.g.
 * "inputs[0].data: 3136 bytes, expected 3140". When the request/result id
 * was read before the failure, has_id = 1 and id/id_len give its bytes INSIDE
 * the message buffer (not NUL-terminated; valid while that buffer is), so
 * the worker can answer with an error result keyed by id. */
typedef struct kf_codec_error {
    char msg[256];
    int has_id;
    const char *id;
    size_t id_len;
} kf_codec_error_t;

/* ---- shared value types ------------------------------------------------------ */

/* A tensor view: nothing is owned. In a decoded object, name lives in the
 * object's allocation and data in the message buffer. For encoding, the
 * caller's pointers are only read during the call. */
typedef struct kf_tensor_view {
    const char *name; /* "" = positional; never NULL after decoding */
    kf_dtype_t dtype;
    uint32_t rank;              /* 0..KF_MAX_RANK */
    int64_t shape[KF_MAX_RANK]; /* first `rank` entries used */
    const void *data;           /* little-endian, row-major; may be unaligned */
    size_t nbytes;              /* == elements * kf_dtype_size(dtype) */
} kf_tensor_view_t;

typedef struct kf_kv {
    const char *key;
    const char *value;
} kf_kv_t;

/* Product of shape[0..rank) with overflow check; KF_ERR_LIMIT on overflow or
 * a negative dim. Any thread. */
kf_status_t kf_tensor_elements(const kf_tensor_view_t *t, uint64_t *out);

/* ---- requests ------------------------------------------------------------------ */

typedef struct kf_request {
    const char *id;
    const char *model;
    const char *model_version; /* NULL = newest loaded */
    int has_deadline;
    int64_t deadline_ms;     /* Unix epoch ms; valid when has_deadline */
    const char *reply_topic; /* NULL = worker default */
    const kf_tensor_view_t *inputs;
    uint32_t n_inputs;
    const kf_kv_t *metadata;
    uint32_t n_metadata;
} kf_request_t;

/* Decodes one request message (framing per params). On KF_OK *out is a new
 * request (caller owns; kf_request_free) whose inputs[i].data point into
 * msg[0..len). On failure returns KF_ERR_DECODE (malformed bytes, framing,
 * schema id), KF_ERR_LIMIT (message/rank/elements/tensor/metadata limits) or
 * KF_ERR_INVALID_INPUT (data length vs shape, dims, empty inputs), or
 * KF_ERR_NOMEM; *out = NULL and err (if non-NULL) says why. */
kf_status_t kf_codec_decode_request(const kf_codec_params_t *params, const void *msg, size_t len,
                                    kf_request_t **out, kf_codec_error_t *err);
void kf_request_free(kf_request_t *req); /* NULL is a no-op */

/* Encodes req (framing per params; Confluent uses request_schema_id) into
 * out, replacing its contents (out->len = message size). Checks the same
 * invariants as the decoder (nbytes vs shape, rank, limits) so what we write
 * we also accept. Strings: NULL id/model/name encode as "". */
kf_status_t kf_codec_encode_request(const kf_codec_params_t *params, const kf_request_t *req,
                                    kf_buf_t *out, kf_codec_error_t *err);

/* ---- results --------------------------------------------------------------------- */

typedef enum kf_result_status {
    KF_RESULT_OK = 0,
    KF_RESULT_INVALID_INPUT,
    KF_RESULT_MODEL_NOT_FOUND,
    KF_RESULT_DEADLINE_EXCEEDED,
    KF_RESULT_INTERNAL,
    KF_RESULT_STATUS_COUNT /* not a status */
} kf_result_status_t;

/* Static Avro symbol name ("OK", "INVALID_INPUT", ...); "INVALID" otherwise. */
const char *kf_result_status_name(kf_result_status_t s);

typedef struct kf_result {
    const char *id;
    const char *model;
    const char *model_version; /* required by the schema; NULL encodes "" */
    kf_result_status_t status;
    const char *error; /* NULL = Avro null */
    const kf_tensor_view_t *outputs;
    uint32_t n_outputs;
    int32_t batch_size;
    int64_t queue_us;
    int64_t compute_us;
    const char *worker;
    const char *source_topic;
    int32_t source_partition;
    int64_t source_offset;
    const kf_kv_t *metadata;
    uint32_t n_metadata;
} kf_result_t;

/* Encodes res (framing per params; Confluent uses result_schema_id) into
 * out, replacing its contents. Reuse `out` across calls to avoid malloc. */
kf_status_t kf_codec_encode_result(const kf_codec_params_t *params, const kf_result_t *res,
                                   kf_buf_t *out, kf_codec_error_t *err);

/* Decodes one result message; same rules and ownership as
 * kf_codec_decode_request (outputs[i].data point into msg). Output tensors
 * may have rank 0 and dims >= 0. */
kf_status_t kf_codec_decode_result(const kf_codec_params_t *params, const void *msg, size_t len,
                                   kf_result_t **out, kf_codec_error_t *err);
void kf_result_free(kf_result_t *res); /* NULL is a no-op */

/* ---- schemas ------------------------------------------------------------------------ */

/* The .avsc texts compiled in (byte-identical to schemas/; a unit test
 * checks). Static strings; any thread. */
const char *kf_codec_request_schema_json(void);
const char *kf_codec_result_schema_json(void);

#endif
