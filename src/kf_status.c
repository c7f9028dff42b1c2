#include "kf_status.h"

const char *kf_status_str(kf_status_t st) {
    switch (st) {
    case KF_OK: return "ok";
    case KF_ERR_INVALID_ARG: return "invalid argument";
    case KF_ERR_CONFIG: return "configuration error";
    case KF_ERR_DECODE: return "decode error";
    case KF_ERR_LIMIT: return "limit exceeded";
    case KF_ERR_INVALID_INPUT: return "invalid input";
    case KF_ERR_NOT_FOUND: return "not found";
    case KF_ERR_IO: return "I/O error";
    case KF_ERR_KAFKA: return "kafka error";
    case KF_ERR_NOMEM: return "out of memory";
    case KF_ERR_TIMEOUT: return "timeout";
    case KF_ERR_UNSUPPORTED: return "unsupported";
    case KF_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}
