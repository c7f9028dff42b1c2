#include "kf_cli_util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int kf_cli_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    if (!s || !*s)
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = (int64_t)v;
    return 0;
}

kf_status_t kf_tensor_spec_parse(const char *spec, kf_tensor_spec_t *out, char *err, size_t errsz) {
    if (!spec || !out) {
        snprintf(err, errsz, "tensor spec: NULL");
        return KF_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof(*out));
    const char *c1 = strchr(spec, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2) {
        snprintf(err, errsz,
                 "tensor spec '%s': expected NAME:DTYPE:DIMS (e.g. input:float32:1x784)", spec);
        return KF_ERR_INVALID_ARG;
    }
    size_t nl = (size_t)(c1 - spec);
    if (nl >= sizeof(out->name)) {
        snprintf(err, errsz, "tensor spec '%s': name longer than %zu", spec, sizeof(out->name) - 1);
        return KF_ERR_INVALID_ARG;
    }
    memcpy(out->name, spec, nl);
    out->name[nl] = '\0';
    char dt[32];
    size_t dl = (size_t)(c2 - c1 - 1);
    if (dl == 0 || dl >= sizeof(dt)) {
        snprintf(err, errsz, "tensor spec '%s': bad dtype", spec);
        return KF_ERR_INVALID_ARG;
    }
    memcpy(dt, c1 + 1, dl);
    dt[dl] = '\0';
    if (kf_dtype_parse(dt, &out->dtype) != KF_OK) {
        snprintf(err, errsz, "tensor spec '%s': unknown dtype '%s'", spec, dt);
        return KF_ERR_INVALID_ARG;
    }
    const char *p = c2 + 1;
    while (*p) {
        if (out->rank == KF_MAX_RANK) {
            snprintf(err, errsz, "tensor spec '%s': more than %d dims", spec, KF_MAX_RANK);
            return KF_ERR_INVALID_ARG;
        }
        char *end = NULL;
        errno = 0;
        if (*p < '0' || *p > '9') {
            snprintf(err, errsz, "tensor spec '%s': dims must be like 1x784", spec);
            return KF_ERR_INVALID_ARG;
        }
        long long d = strtoll(p, &end, 10);
        if (errno || d < 0 || d > (1LL << 40) || (*end && *end != 'x' && *end != 'X') ||
            ((*end == 'x' || *end == 'X') && end[1] == '\0')) {
            snprintf(err, errsz, "tensor spec '%s': dims must be like 1x784", spec);
            return KF_ERR_INVALID_ARG;
        }
        out->shape[out->rank++] = d;
        p = *end ? end + 1 : end;
    }
    return KF_OK;
}

kf_status_t kf_tensor_bytes(kf_dtype_t dtype, uint32_t rank, const int64_t *shape, size_t limit,
                            size_t *out) {
    uint64_t n = kf_dtype_size(dtype);
    if (n == 0 || rank > KF_MAX_RANK)
        return KF_ERR_INVALID_ARG;
    for (uint32_t i = 0; i < rank; i++) {
        if (shape[i] < 0)
            return KF_ERR_INVALID_ARG;
        if (shape[i] != 0 && n > (uint64_t)limit / (uint64_t)shape[i])
            return KF_ERR_LIMIT;
        n *= (uint64_t)shape[i];
    }
    if (n > limit)
        return KF_ERR_LIMIT;
    *out = (size_t)n;
    return KF_OK;
}

void kf_rng_seed(kf_rng_t *r, uint64_t seed) {
    r->s = seed ? seed : 0x9E3779B97F4A7C15ull;
}

uint64_t kf_rng_next(kf_rng_t *r) {
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform float in [-1, 1). */
static float rnd_unit(kf_rng_t *r) {
    return (float)((double)(kf_rng_next(r) >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}

/* IEEE half bits of f, |f| < 2 (normal or zero; subnormals flush to 0). */
static uint16_t half_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    int32_t e = (int32_t)((u >> 23) & 0xffu) - 127 + 15;
    uint32_t m = (u >> 13) & 0x3ffu;
    if (e <= 0)
        return sign;
    return (uint16_t)(sign | (uint16_t)(e << 10) | (uint16_t)m);
}

void kf_random_fill(kf_rng_t *r, kf_dtype_t dtype, void *data, size_t nbytes) {
    uint8_t *p = data;
    size_t es = kf_dtype_size(dtype);
    if (es == 0)
        return;
    for (size_t off = 0; off + es <= nbytes; off += es) {
        switch (dtype) {
        case KF_DTYPE_FLOAT32: {
            float f = rnd_unit(r);
            memcpy(p + off, &f, 4);
            break;
        }
        case KF_DTYPE_FLOAT64: {
            double d = (double)rnd_unit(r);
            memcpy(p + off, &d, 8);
            break;
        }
        case KF_DTYPE_FLOAT16: {
            uint16_t h = half_bits(rnd_unit(r));
            memcpy(p + off, &h, 2);
            break;
        }
        case KF_DTYPE_BFLOAT16: {
            float f = rnd_unit(r);
            uint32_t u;
            memcpy(&u, &f, 4);
            uint16_t h = (uint16_t)(u >> 16);
            memcpy(p + off, &h, 2);
            break;
        }
        case KF_DTYPE_INT8:
        case KF_DTYPE_UINT8: p[off] = (uint8_t)kf_rng_next(r); break;
        case KF_DTYPE_BOOL: p[off] = (uint8_t)(kf_rng_next(r) & 1u); break;
        case KF_DTYPE_INT32: {
            int32_t v = (int32_t)(kf_rng_next(r) % 1000u);
            memcpy(p + off, &v, 4);
            break;
        }
        case KF_DTYPE_INT64: {
            int64_t v = (int64_t)(kf_rng_next(r) % 1000u);
            memcpy(p + off, &v, 8);
            break;
        }
        default: return;
        }
    }
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

void kf_json_write_str(FILE *out, const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    fputc('"', out);
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
            i++;
        } else if (c == '\n') {
            fputs("\\n", out);
            i++;
        } else if (c == '\r') {
            fputs("\\r", out);
            i++;
        } else if (c == '\t') {
            fputs("\\t", out);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            fputc(c, out);
            i++;
        } else {
            size_t l = utf8_len(u + i, n - i);
            if (l) {
                fwrite(u + i, 1, l, out);
                i += l;
            } else {
                fprintf(out, "\\u%04x", c); /* not UTF-8: the byte as a code point */
                i++;
            }
        }
    }
    fputc('"', out);
}

int64_t kf_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t kf_epoch_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The only global: written by the signal handler, read by the main loop. */
static volatile sig_atomic_t kf_cli_stop_signal;

static void on_stop_signal(int sig) {
    kf_cli_stop_signal = sig;
}

int kf_cli_signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    kf_cli_stop_signal = 0;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return -1;
    return 0;
}

int kf_cli_signal_take(void) {
    int sig = kf_cli_stop_signal;
    kf_cli_stop_signal = 0;
    return sig;
}

int kf_cli_property_set(const char *cli, kf_config_t *xcfg, const char *arg) {
    char err[512];
    if (kf_config_set_pair(xcfg, arg, 1, KF_CFG_SRC_FLAG, "-X", err, sizeof(err)) != KF_OK) {
        fprintf(stderr, "kinfer %s: -X: %s\n", cli, err);
        return 2;
    }
    return 0;
}

int kf_cli_schema_id_parse(const char *cli, const char *arg, int32_t *out) {
    int64_t v;
    if (kf_cli_parse_i64(arg, 0, INT32_MAX, &v)) {
        fprintf(stderr, "kinfer %s: --schema-id '%s': expected 0..%d\n", cli, arg, INT32_MAX);
        return 2;
    }
    *out = (int32_t)v;
    return 0;
}

int kf_cli_operands_check(const char *cli, int rc, int first, int argc, char **argv) {
    if (rc == 0 && first < argc) {
        fprintf(stderr, "kinfer %s: unexpected argument '%s'\n", cli, argv[first]);
        return 2;
    }
    return rc;
}

int kf_cli_usage_hint(const char *cli) {
    fprintf(stderr, "(kinfer %s --help lists the options)\n", cli);
    return 2;
}

rd_kafka_conf_t *kf_cli_kafka_conf_new(const char *cli, const char *const (*kv)[2],
                                       const kf_config_t *xcfg) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];
    for (; (*kv)[0]; kv++) {
        if (rd_kafka_conf_set(conf, (*kv)[0], (*kv)[1], err, sizeof(err)) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "kinfer %s: %s\n", cli, err);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    if (kf_config_apply_kafka(xcfg, conf, err, sizeof(err)) != KF_OK) {
        fprintf(stderr, "kinfer %s: -X: %s\n", cli, err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

void kf_cli_row_request_init(kf_request_t *req, kf_tensor_view_t *t, const char *id,
                             const char *model, const float *x, int64_t feat) {
    memset(t, 0, sizeof(*t));
    t->name = "input";
    t->dtype = KF_DTYPE_FLOAT32;
    t->rank = 2;
    t->shape[0] = 1;
    t->shape[1] = feat;
    t->data = x;
    t->nbytes = (size_t)feat * sizeof(float);
    memset(req, 0, sizeof(*req));
    req->id = id;
    req->model = model;
    req->inputs = t;
    req->n_inputs = 1;
}

rd_kafka_resp_err_t kf_cli_stamped_produce(rd_kafka_t *p, const char *topic, int32_t partition,
                                           const void *key, size_t key_len, const void *value,
                                           size_t len, const char *hdr) {
    int64_t sent = kf_now_us();
    rd_kafka_headers_t *h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, hdr, -1, &sent, sizeof(sent));
    rd_kafka_resp_err_t err = rd_kafka_producev(
        p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_KEY(key, key_len),
        RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
    if (err)
        rd_kafka_headers_destroy(h);
    return err;
}

int64_t kf_cli_stamp_read(const rd_kafka_message_t *m, const char *hdr) {
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t vl;
    int64_t sent = 0;
    if (rd_kafka_message_headers(m, &h) == 0 && rd_kafka_header_get_last(h, hdr, &v, &vl) == 0 &&
        vl == sizeof(sent))
        memcpy(&sent, v, sizeof(sent));
    return sent;
}

int kf_cli_cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}
