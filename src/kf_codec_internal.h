/* Internals shared by kf_codec*.c; not part of the public API. */
#ifndef KF_CODEC_INTERNAL_H
#define KF_CODEC_INTERNAL_H

#include "kf_codec.h"

/* Writes msg into err (if non-NULL); returns st. */
kf_status_t kf_codec_fail(kf_codec_error_t *err, kf_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Strips the framing of msg per params (schema_id = the id expected for this
 * message kind). On KF_OK body/body_len give the Avro body. *auto_hint is
 * set when AUTO chose raw for a message that starts like a Confluent frame
 * with another id (*hint_id), so a later decode error can mention it. */
kf_status_t kf_codec_unframe(const kf_codec_params_t *p, const uint8_t *msg, size_t len,
                             int32_t schema_id, const uint8_t **body, size_t *body_len,
                             int *auto_hint, int32_t *hint_id, kf_codec_error_t *err);

/* Checks one tensor's dims, element count and byte length (field = e.g.
 * "inputs[2]"). need_rows: rank >= 1 and shape[0] >= 1 (request inputs).
 * data_len is the byte length actually present. */
kf_status_t kf_codec_check_tensor(const kf_codec_params_t *p, const char *field, uint32_t idx,
                                  kf_dtype_t dtype, uint32_t rank, const int64_t *shape,
                                  size_t data_len, int need_rows, kf_codec_error_t *err);

#endif
