#include "kf_rdstats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Where the walker is on the path topics.<t>.partitions.<p>.consumer_lag. */
enum at {
    AT_OFF = -1, /* off the path: validate and skip */
    AT_ROOT = 0, /* the document object */
    AT_TOPICS,   /* object keyed by topic name */
    AT_TOPIC,    /* one topic's object */
    AT_PARTS,    /* object keyed by partition id */
    AT_PART,     /* one partition's object */
    AT_LAG       /* the consumer_lag value */
};

typedef struct walker {
    const char *s;
    size_t n, i;
    int depth;
    kf_rdstats_lag_fn fn;
    void *ctx;
    char topic[256];
    int32_t partition;
    int part_ok;
} walker_t;

static void skip_ws(walker_t *w) {
    while (w->i < w->n &&
           (w->s[w->i] == ' ' || w->s[w->i] == '\t' || w->s[w->i] == '\n' || w->s[w->i] == '\r'))
        w->i++;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads a string at w->i (which is '"'). Copies its decoded bytes into out
 * (truncating; out may be NULL) and sets *trunc when it did not fit. \uXXXX
 * escapes other than ASCII are copied as '?': topic names are ASCII. */
static int read_string(walker_t *w, char *out, size_t cap, int *trunc) {
    size_t o = 0;
    if (trunc)
        *trunc = 0;
    if (w->i >= w->n || w->s[w->i] != '"')
        return -1;
    w->i++;
    while (w->i < w->n) {
        unsigned char c = (unsigned char)w->s[w->i++];
        char d;
        if (c == '"') {
            if (out && cap)
                out[o < cap ? o : cap - 1] = '\0';
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            if (w->i >= w->n)
                return -1;
            char e = w->s[w->i++];
            switch (e) {
            case '"': d = '"'; break;
            case '\\': d = '\\'; break;
            case '/': d = '/'; break;
            case 'b': d = '\b'; break;
            case 'f': d = '\f'; break;
            case 'n': d = '\n'; break;
            case 'r': d = '\r'; break;
            case 't': d = '\t'; break;
            case 'u': {
                if (w->n - w->i < 4)
                    return -1;
                int v = 0;
                for (int k = 0; k < 4; k++) {
                    int h = hexval(w->s[w->i + (size_t)k]);
                    if (h < 0)
                        return -1;
                    v = v * 16 + h;
                }
                w->i += 4;
                d = (v > 0 && v < 0x80) ? (char)v : '?';
                break;
            }
            default: return -1;
            }
        } else {
            d = (char)c;
        }
        if (out && o + 1 < cap)
            out[o++] = d;
        else if (trunc)
            *trunc = 1;
    }
    return -1; /* unterminated */
}

/* Validates a JSON number at w->i; stores its integer value in *val when it
 * is an integer that fits (else *is_int = 0). */
static int read_number(walker_t *w, int64_t *val, int *is_int) {
    size_t start = w->i;
    *is_int = 1;
    if (w->i < w->n && w->s[w->i] == '-')
        w->i++;
    if (w->i >= w->n)
        return -1;
    if (w->s[w->i] == '0') {
        w->i++;
    } else if (w->s[w->i] >= '1' && w->s[w->i] <= '9') {
        while (w->i < w->n && w->s[w->i] >= '0' && w->s[w->i] <= '9')
            w->i++;
    } else {
        return -1;
    }
    if (w->i < w->n && w->s[w->i] == '.') {
        *is_int = 0;
        w->i++;
        size_t d = w->i;
        while (w->i < w->n && w->s[w->i] >= '0' && w->s[w->i] <= '9')
            w->i++;
        if (w->i == d)
            return -1;
    }
    if (w->i < w->n && (w->s[w->i] == 'e' || w->s[w->i] == 'E')) {
        *is_int = 0;
        w->i++;
        if (w->i < w->n && (w->s[w->i] == '+' || w->s[w->i] == '-'))
            w->i++;
        size_t d = w->i;
        while (w->i < w->n && w->s[w->i] >= '0' && w->s[w->i] <= '9')
            w->i++;
        if (w->i == d)
            return -1;
    }
    if (*is_int) {
        char tmp[32];
        size_t len = w->i - start;
        if (len >= sizeof(tmp)) {
            *is_int = 0;
            return 0;
        }
        memcpy(tmp, w->s + start, len);
        tmp[len] = '\0';
        errno = 0;
        long long v = strtoll(tmp, NULL, 10);
        if (errno == ERANGE)
            *is_int = 0;
        else
            *val = (int64_t)v;
    }
    return 0;
}

static int read_literal(walker_t *w, const char *lit) {
    size_t l = strlen(lit);
    if (w->n - w->i < l || memcmp(w->s + w->i, lit, l) != 0)
        return -1;
    w->i += l;
    return 0;
}

static int parse_value(walker_t *w, enum at at);

/* Which place a key leads to from `at`. */
static enum at child_at(walker_t *w, enum at at, const char *key, int trunc) {
    switch (at) {
    case AT_ROOT: return strcmp(key, "topics") == 0 ? AT_TOPICS : AT_OFF;
    case AT_TOPICS:
        if (trunc)
            return AT_OFF; /* longer than any legal topic name */
        memcpy(w->topic, key, sizeof(w->topic));
        return AT_TOPIC;
    case AT_TOPIC: return strcmp(key, "partitions") == 0 ? AT_PARTS : AT_OFF;
    case AT_PARTS: {
        char *end = NULL;
        errno = 0;
        long v = strtol(key, &end, 10);
        if (trunc || !*key || *end || errno || v < -1 || v > INT32_MAX)
            return AT_OFF;
        w->partition = (int32_t)v;
        return AT_PART;
    }
    case AT_PART: return strcmp(key, "consumer_lag") == 0 ? AT_LAG : AT_OFF;
    default: return AT_OFF;
    }
}

static int parse_object(walker_t *w, enum at at) {
    w->i++; /* '{' */
    skip_ws(w);
    if (w->i < w->n && w->s[w->i] == '}') {
        w->i++;
        return 0;
    }
    for (;;) {
        char key[256];
        int trunc = 0;
        skip_ws(w);
        if (read_string(w, key, sizeof(key), &trunc) != 0)
            return -1;
        skip_ws(w);
        if (w->i >= w->n || w->s[w->i] != ':')
            return -1;
        w->i++;
        enum at next = at == AT_OFF ? AT_OFF : child_at(w, at, key, trunc);
        if (parse_value(w, next) != 0)
            return -1;
        skip_ws(w);
        if (w->i >= w->n)
            return -1;
        if (w->s[w->i] == ',') {
            w->i++;
            continue;
        }
        if (w->s[w->i] == '}') {
            w->i++;
            return 0;
        }
        return -1;
    }
}

static int parse_array(walker_t *w) {
    w->i++; /* '[' */
    skip_ws(w);
    if (w->i < w->n && w->s[w->i] == ']') {
        w->i++;
        return 0;
    }
    for (;;) {
        if (parse_value(w, AT_OFF) != 0)
            return -1;
        skip_ws(w);
        if (w->i >= w->n)
            return -1;
        if (w->s[w->i] == ',') {
            w->i++;
            continue;
        }
        if (w->s[w->i] == ']') {
            w->i++;
            return 0;
        }
        return -1;
    }
}

static int parse_value(walker_t *w, enum at at) {
    skip_ws(w);
    if (w->i >= w->n)
        return -1;
    char c = w->s[w->i];
    int rc;
    if (c == '{' || c == '[') {
        if (++w->depth > KF_RDSTATS_MAX_DEPTH)
            return -1;
        /* Only objects continue the path; AT_LAG wants a number. */
        rc = c == '{' ? parse_object(w, at == AT_LAG ? AT_OFF : at) : parse_array(w);
        w->depth--;
        return rc;
    }
    if (c == '"')
        return read_string(w, NULL, 0, NULL);
    if (c == 't')
        return read_literal(w, "true");
    if (c == 'f')
        return read_literal(w, "false");
    if (c == 'n')
        return read_literal(w, "null");
    int64_t v = 0;
    int is_int = 0;
    if (read_number(w, &v, &is_int) != 0)
        return -1;
    if (at == AT_LAG && is_int && w->partition >= 0 && w->fn)
        w->fn(w->ctx, w->topic, w->partition, v < 0 ? -1 : v);
    return 0;
}

kf_status_t kf_rdstats_parse_lag(const char *json, size_t len, kf_rdstats_lag_fn fn, void *ctx) {
    if (!json)
        return KF_ERR_INVALID_ARG;
    walker_t w;
    memset(&w, 0, sizeof(w));
    w.s = json;
    w.n = len;
    w.fn = fn;
    w.ctx = ctx;
    skip_ws(&w);
    if (w.i >= w.n || w.s[w.i] != '{')
        return KF_ERR_DECODE;
    if (parse_value(&w, AT_ROOT) != 0)
        return KF_ERR_DECODE;
    skip_ws(&w);
    /* librdkafka's buffer may carry a trailing NUL */
    while (w.i < w.n && w.s[w.i] == '\0')
        w.i++;
    return w.i == w.n ? KF_OK : KF_ERR_DECODE;
}
