/* kf_status: the worker's status codes.
 *
 * Every fallible kf_ function returns a kf_status_t (or NULL plus an error
 * buffer for constructors). kf_status_str() returns a static string; any
 * thread may call it. */
#ifndef KF_STATUS_H
#define KF_STATUS_H

typedef enum kf_status {
    KF_OK = 0,
    KF_ERR_INVALID_ARG,   /* caller passed a bad argument or option */
    KF_ERR_CONFIG,        /* bad or unknown configuration key/value */
    KF_ERR_DECODE,        /* malformed wire bytes (Avro, framing, .npy) */
    KF_ERR_LIMIT,         /* input exceeds a configured limit */
    KF_ERR_INVALID_INPUT, /* well-formed but wrong dtype/shape/length */
    KF_ERR_NOT_FOUND,     /* unknown model, file, key */
    KF_ERR_IO,            /* file or network I/O failed */
    KF_ERR_KAFKA,         /* librdkafka reported an error */
    KF_ERR_NOMEM,         /* allocation failed */
    KF_ERR_TIMEOUT,       /* an operation ran past its deadline */
    KF_ERR_UNSUPPORTED,   /* feature not available in this build */
    KF_ERR_INTERNAL       /* a bug: should not happen */
} kf_status_t;

/* Static, human-readable name of a status ("invalid input"). */
const char *kf_status_str(kf_status_t st);

#endif
