/* kf_log: levelled, one-line-per-event logging, text or JSON.
 *
 * A kf_logger_t is created once (by main or a test) and passed down in
 * handles; there is no global logger. Every function accepts a NULL logger,
 * which means "stderr, text, level INFO", so library code never has to check.
 * The logger is immutable after creation and safe to use from any thread;
 * each event is written with one fwrite under the stream lock, so lines from
 * different threads never interleave.
 *
 * Context fields (model, topic, partition, offset) are printed when set, so
 * an error line can always be traced back to its job. */
#ifndef KF_LOG_H
#define KF_LOG_H

#include <stdint.h>
#include <stdio.h>

#include "kf_status.h"

typedef enum kf_log_level {
    KF_LOG_DEBUG = 0,
    KF_LOG_INFO,
    KF_LOG_WARN,
    KF_LOG_ERROR,
    KF_LOG_OFF
} kf_log_level_t;

typedef enum kf_log_format { KF_LOG_TEXT = 0, KF_LOG_JSON } kf_log_format_t;

typedef struct kf_logger kf_logger_t;

typedef struct kf_log_params {
    kf_log_level_t level;   /* events below it are dropped (default INFO) */
    kf_log_format_t format; /* default TEXT */
    FILE *stream;           /* default stderr; not owned */
    const char *component;  /* optional name printed with every line (copied) */
} kf_log_params_t;

/* Where an event happened; any field may be unset (NULL / -1). */
typedef struct kf_log_ctx {
    const char *model;
    const char *topic;
    int32_t partition; /* -1 = unset */
    int64_t offset;    /* -1 = unset */
} kf_log_ctx_t;

#define KF_LOG_CTX_NONE ((kf_log_ctx_t){NULL, NULL, -1, -1})

kf_log_params_t kf_log_default_params(void);

/* Returns a new logger (caller owns; kf_logger_free) or NULL on OOM. */
kf_logger_t *kf_logger_new(const kf_log_params_t *params);
void kf_logger_free(kf_logger_t *lg);

/* Parses "debug|info|warn|error|off" / "text|json". Return KF_ERR_CONFIG on
 * an unknown name. */
kf_status_t kf_log_level_parse(const char *s, kf_log_level_t *out);
kf_status_t kf_log_format_parse(const char *s, kf_log_format_t *out);

/* True when an event at `level` would be written. */
int kf_log_enabled(const kf_logger_t *lg, kf_log_level_t level);

void kf_log(const kf_logger_t *lg, kf_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void kf_log_at(const kf_logger_t *lg, kf_log_level_t level, const kf_log_ctx_t *ctx,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define KF_DEBUG(lg, ...) kf_log((lg), KF_LOG_DEBUG, __VA_ARGS__)
#define KF_INFO(lg, ...) kf_log((lg), KF_LOG_INFO, __VA_ARGS__)
#define KF_WARN(lg, ...) kf_log((lg), KF_LOG_WARN, __VA_ARGS__)
#define KF_ERROR(lg, ...) kf_log((lg), KF_LOG_ERROR, __VA_ARGS__)

#endif
