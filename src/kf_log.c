#include "kf_log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

struct kf_logger {
    kf_log_params_t p;
    char component[64];
};

static const char *level_name(kf_log_level_t l) {
    switch (l) {
    case KF_LOG_DEBUG: return "debug";
    case KF_LOG_INFO: return "info";
    case KF_LOG_WARN: return "warn";
    case KF_LOG_ERROR: return "error";
    case KF_LOG_OFF: return "off";
    }
    return "?";
}

kf_log_params_t kf_log_default_params(void) {
    kf_log_params_t p = {KF_LOG_INFO, KF_LOG_TEXT, NULL, NULL};
    return p;
}

kf_logger_t *kf_logger_new(const kf_log_params_t *params) {
    kf_logger_t *lg = calloc(1, sizeof(*lg));
    if (!lg)
        return NULL;
    lg->p = params ? *params : kf_log_default_params();
    if (lg->p.component) {
        snprintf(lg->component, sizeof(lg->component), "%s", lg->p.component);
        lg->p.component = lg->component;
    }
    return lg;
}

void kf_logger_free(kf_logger_t *lg) {
    free(lg);
}

kf_status_t kf_log_level_parse(const char *s, kf_log_level_t *out) {
    for (int l = KF_LOG_DEBUG; l <= KF_LOG_OFF; l++) {
        if (s && strcmp(s, level_name((kf_log_level_t)l)) == 0) {
            *out = (kf_log_level_t)l;
            return KF_OK;
        }
    }
    if (s && strcmp(s, "warning") == 0) {
        *out = KF_LOG_WARN;
        return KF_OK;
    }
    return KF_ERR_CONFIG;
}

kf_status_t kf_log_format_parse(const char *s, kf_log_format_t *out) {
    if (s && strcmp(s, "text") == 0) {
        *out = KF_LOG_TEXT;
        return KF_OK;
    }
    if (s && strcmp(s, "json") == 0) {
        *out = KF_LOG_JSON;
        return KF_OK;
    }
    return KF_ERR_CONFIG;
}

int kf_log_enabled(const kf_logger_t *lg, kf_log_level_t level) {
    kf_log_level_t min = lg ? lg->p.level : KF_LOG_INFO;
    return level != KF_LOG_OFF && level >= min;
}

/* Appends s to buf as a JSON string body (no quotes), escaping as needed. */
static size_t json_escape(char *buf, size_t cap, size_t pos, const char *s) {
    for (; *s && pos + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[pos++] = '\\';
            buf[pos++] = (char)c;
        } else if (c == '\n') {
            buf[pos++] = '\\';
            buf[pos++] = 'n';
        } else if (c < 0x20) {
            pos += (size_t)snprintf(buf + pos, cap - pos, "\\u%04x", c);
        } else {
            buf[pos++] = (char)c;
        }
    }
    return pos;
}

static size_t appendf(char *buf, size_t cap, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t appendf(char *buf, size_t cap, size_t pos, const char *fmt, ...) {
    if (pos >= cap)
        return pos;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + pos, cap - pos, fmt, ap);
    va_end(ap);
    if (n < 0)
        return pos;
    pos += (size_t)n;
    return pos < cap ? pos : cap - 1;
}

static void log_emit(const kf_logger_t *lg, kf_log_level_t level, const kf_log_ctx_t *ctx,
                     const char *fmt, va_list ap) {
    if (!kf_log_enabled(lg, level))
        return;
    FILE *out = (lg && lg->p.stream) ? lg->p.stream : stderr;
    kf_log_format_t format = lg ? lg->p.format : KF_LOG_TEXT;
    const char *comp = lg ? lg->p.component : NULL;

    char msg[2048];
    vsnprintf(msg, sizeof(msg), fmt, ap);

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[64];
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (long)(tv.tv_usec / 1000));

    char line[4096];
    size_t cap = sizeof(line) - 2, pos = 0;
    if (format == KF_LOG_JSON) {
        pos = appendf(line, cap, pos, "{\"ts\":\"%s\",\"level\":\"%s\"", ts, level_name(level));
        if (comp) {
            pos = appendf(line, cap, pos, ",\"component\":\"");
            pos = json_escape(line, cap, pos, comp);
            pos = appendf(line, cap, pos, "\"");
        }
        if (ctx && ctx->model) {
            pos = appendf(line, cap, pos, ",\"model\":\"");
            pos = json_escape(line, cap, pos, ctx->model);
            pos = appendf(line, cap, pos, "\"");
        }
        if (ctx && ctx->topic) {
            pos = appendf(line, cap, pos, ",\"topic\":\"");
            pos = json_escape(line, cap, pos, ctx->topic);
            pos = appendf(line, cap, pos, "\"");
        }
        if (ctx && ctx->partition >= 0)
            pos = appendf(line, cap, pos, ",\"partition\":%d", (int)ctx->partition);
        if (ctx && ctx->offset >= 0)
            pos = appendf(line, cap, pos, ",\"offset\":%lld", (long long)ctx->offset);
        pos = appendf(line, cap, pos, ",\"msg\":\"");
        pos = json_escape(line, cap, pos, msg);
        pos = appendf(line, cap, pos, "\"}");
    } else {
        pos = appendf(line, cap, pos, "%s %-5s ", ts, level_name(level));
        if (comp)
            pos = appendf(line, cap, pos, "[%s] ", comp);
        pos = appendf(line, cap, pos, "%s", msg);
        if (ctx && ctx->model)
            pos = appendf(line, cap, pos, " model=%s", ctx->model);
        if (ctx && ctx->topic)
            pos = appendf(line, cap, pos, " topic=%s", ctx->topic);
        if (ctx && ctx->partition >= 0)
            pos = appendf(line, cap, pos, " partition=%d", (int)ctx->partition);
        if (ctx && ctx->offset >= 0)
            pos = appendf(line, cap, pos, " offset=%lld", (long long)ctx->offset);
    }
    line[pos++] = '\n';
    flockfile(out);
    fwrite(line, 1, pos, out);
    fflush(out);
    funlockfile(out);
}

void kf_log(const kf_logger_t *lg, kf_log_level_t level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_emit(lg, level, NULL, fmt, ap);
    va_end(ap);
}

void kf_log_at(const kf_logger_t *lg, kf_log_level_t level, const kf_log_ctx_t *ctx,
               const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_emit(lg, level, ctx, fmt, ap);
    va_end(ap);
}
