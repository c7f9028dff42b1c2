#include "kf_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct kf_config_entry {
    char *key;
    char *value;
    char *origin; /* may be NULL */
    kf_config_source_t src;
} kf_config_entry_t;

struct kf_config {
    kf_config_entry_t *entries;
    size_t n, cap;
    char **models;
    size_t n_models, cap_models;
};

static const char *const src_names[] = {"default", "file", "flag", "environment"};

static void seterr(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errsz, const char *fmt, ...) {
    if (!err || errsz == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

/* ---- value parsing ------------------------------------------------------ */

kf_status_t kf_config_parse_int(const char *s, int64_t *out) {
    if (!s || !*s || isspace((unsigned char)*s))
        return KF_ERR_CONFIG;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return KF_ERR_CONFIG;
    *out = (int64_t)v;
    return KF_OK;
}

kf_status_t kf_config_parse_size(const char *s, int64_t *out) {
    if (!s || !*s || !isdigit((unsigned char)*s))
        return KF_ERR_CONFIG;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0)
        return KF_ERR_CONFIG;
    unsigned shift = 0;
    switch (tolower((unsigned char)*end)) {
    case '\0': break;
    case 'k':
        shift = 10;
        end++;
        break;
    case 'm':
        shift = 20;
        end++;
        break;
    case 'g':
        shift = 30;
        end++;
        break;
    case 't':
        shift = 40;
        end++;
        break;
    default: return KF_ERR_CONFIG;
    }
    if (shift && (*end == 'i' || *end == 'I'))
        end++;
    if (shift && (*end == 'b' || *end == 'B'))
        end++;
    if (*end != '\0')
        return KF_ERR_CONFIG;
    if (v > ((unsigned long long)INT64_MAX >> shift))
        return KF_ERR_CONFIG;
    *out = (int64_t)(v << shift);
    return KF_OK;
}

kf_status_t kf_config_parse_bool(const char *s, int *out) {
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    if (!s)
        return KF_ERR_CONFIG;
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) {
            *out = 1;
            return KF_OK;
        }
        if (!strcasecmp(s, no[i])) {
            *out = 0;
            return KF_OK;
        }
    }
    return KF_ERR_CONFIG;
}

/* Largest N a "prefix:N" choice accepts (the engine's cuda:N bound). */
#define KF_CFG_ENUM_INDEX_MAX 1024

/* Does `v` equal one of the '|'-separated choices? A choice "prefix:N"
 * stands for prefix: followed by a decimal index 0..KF_CFG_ENUM_INDEX_MAX
 * (digits only: no sign, space or empty index). */
static int enum_has(const char *choices, const char *v) {
    size_t vl = strlen(v);
    const char *p = choices;
    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        int index = l >= 2 && p[l - 2] == ':' && p[l - 1] == 'N';
        if (!index && l == vl && !strncmp(p, v, l))
            return 1;
        if (index && vl > l - 1 && !strncmp(p, v, l - 1)) {
            const char *d = v + (l - 1);
            long n = 0;
            size_t nd = 0;
            while (d[nd] >= '0' && d[nd] <= '9' && nd < 5)
                n = n * 10 + (d[nd++] - '0');
            if (nd > 0 && d[nd] == '\0' && n <= KF_CFG_ENUM_INDEX_MAX)
                return 1;
        }
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

static int enum_has_index(const char *choices) {
    for (const char *p = strstr(choices, ":N"); p; p = strstr(p + 2, ":N"))
        if (p[2] == '\0' || p[2] == '|')
            return 1;
    return 0;
}

static int list_ok(const char *v) {
    const char *p = v;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *e = comma ? comma : p + strlen(p);
        const char *b = p;
        while (b < e && isspace((unsigned char)*b))
            b++;
        if (b == e)
            return 0;
        if (!comma)
            return 1;
        p = comma + 1;
    }
}

static const char *type_name(kf_config_type_t t) {
    switch (t) {
    case KF_CFG_STRING: return "string";
    case KF_CFG_INT: return "int";
    case KF_CFG_BOOL: return "bool";
    case KF_CFG_ENUM: return "enum";
    case KF_CFG_SIZE: return "size";
    case KF_CFG_LIST: return "list";
    }
    return "?";
}

/* Checks `v` against row `k`; on failure writes the reason (without key). */
static kf_status_t validate(const kf_config_key_t *k, const char *v, char *why, size_t whysz) {
    int64_t n = 0;
    int b = 0;
    switch (k->type) {
    case KF_CFG_STRING: return KF_OK;
    case KF_CFG_BOOL:
        if (kf_config_parse_bool(v, &b) != KF_OK) {
            seterr(why, whysz, "'%s' is not a boolean (true|false)", v);
            return KF_ERR_CONFIG;
        }
        return KF_OK;
    case KF_CFG_ENUM:
        if (!enum_has(k->choices, v)) {
            if (enum_has_index(k->choices))
                seterr(why, whysz, "'%s' is not one of %s (N: a device index 0..%d)", v, k->choices,
                       KF_CFG_ENUM_INDEX_MAX);
            else
                seterr(why, whysz, "'%s' is not one of %s", v, k->choices);
            return KF_ERR_CONFIG;
        }
        return KF_OK;
    case KF_CFG_LIST:
        if (!list_ok(v)) {
            seterr(why, whysz, "'%s' has an empty item", v);
            return KF_ERR_CONFIG;
        }
        return KF_OK;
    case KF_CFG_INT:
    case KF_CFG_SIZE:
        if ((k->type == KF_CFG_INT ? kf_config_parse_int(v, &n) : kf_config_parse_size(v, &n)) !=
            KF_OK) {
            seterr(why, whysz, "'%s' is not %s", v,
                   k->type == KF_CFG_INT ? "an integer" : "a size (e.g. 512m)");
            return KF_ERR_CONFIG;
        }
        if (n < k->min || n > k->max) {
            seterr(why, whysz, "%lld is out of range [%lld, %lld]", (long long)n, (long long)k->min,
                   (long long)k->max);
            return KF_ERR_CONFIG;
        }
        return KF_OK;
    }
    return KF_ERR_INTERNAL;
}

/* ---- key table lookup --------------------------------------------------- */

/* Does `key` match table name `pat`, where a `*` segment matches one
 * non-empty segment without dots? */
static int key_matches(const char *pat, const char *key) {
    while (*pat && *key) {
        if (*pat == '*') {
            if (*key == '.')
                return 0;
            while (*key && *key != '.')
                key++;
            pat++;
            continue;
        }
        if (*pat != *key)
            return 0;
        pat++;
        key++;
    }
    return *pat == '\0' && *key == '\0';
}

const kf_config_key_t *kf_config_key_find(const char *key) {
    if (!key)
        return NULL;
    for (size_t i = 0; i < kf_config_key_count(); i++) {
        const kf_config_key_t *k = kf_config_key_at(i);
        if (key_matches(k->name, key))
            return k;
    }
    return NULL;
}

static int is_kafka_key(const char *key) {
    return !strncmp(key, "kafka.", 6) && key[6] != '\0';
}

/* ---- the config --------------------------------------------------------- */

kf_config_t *kf_config_new(void) {
    return calloc(1, sizeof(kf_config_t));
}

void kf_config_free(kf_config_t *cfg) {
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n; i++) {
        free(cfg->entries[i].key);
        free(cfg->entries[i].value);
        free(cfg->entries[i].origin);
    }
    free(cfg->entries);
    for (size_t i = 0; i < cfg->n_models; i++)
        free(cfg->models[i]);
    free(cfg->models);
    free(cfg);
}

static kf_config_entry_t *find_entry(const kf_config_t *cfg, const char *key) {
    for (size_t i = 0; i < cfg->n; i++)
        if (!strcmp(cfg->entries[i].key, key))
            return &cfg->entries[i];
    return NULL;
}

static kf_status_t note_model(kf_config_t *cfg, const char *key) {
    if (strncmp(key, "model.", 6) != 0)
        return KF_OK;
    const char *name = key + 6;
    const char *dot = strchr(name, '.');
    if (!dot)
        return KF_OK;
    size_t len = (size_t)(dot - name);
    for (size_t i = 0; i < cfg->n_models; i++)
        if (strlen(cfg->models[i]) == len && !strncmp(cfg->models[i], name, len))
            return KF_OK;
    if (cfg->n_models == cfg->cap_models) {
        size_t cap = cfg->cap_models ? cfg->cap_models * 2 : 4;
        char **m = realloc(cfg->models, cap * sizeof(*m));
        if (!m)
            return KF_ERR_NOMEM;
        cfg->models = m;
        cfg->cap_models = cap;
    }
    char *s = strndup(name, len);
    if (!s)
        return KF_ERR_NOMEM;
    cfg->models[cfg->n_models++] = s;
    return KF_OK;
}

static void where(char *buf, size_t bufsz, const char *origin) {
    if (origin && *origin)
        snprintf(buf, bufsz, " (%s)", origin);
    else
        buf[0] = '\0';
}

kf_status_t kf_config_set(kf_config_t *cfg, const char *key, const char *value,
                          kf_config_source_t src, const char *origin, char *err, size_t errsz) {
    char at[300];
    if (!cfg || !key || !value) {
        seterr(err, errsz, "kf_config_set: NULL argument");
        return KF_ERR_INVALID_ARG;
    }
    where(at, sizeof(at), origin);
    if (!is_kafka_key(key)) {
        const kf_config_key_t *k = kf_config_key_find(key);
        if (!k) {
            seterr(err, errsz, "unknown config key '%s'%s", key, at);
            return KF_ERR_CONFIG;
        }
        char why[256];
        if (validate(k, value, why, sizeof(why)) != KF_OK) {
            seterr(err, errsz, "config key '%s'%s: %s", key, at, why);
            return KF_ERR_CONFIG;
        }
    }
    kf_config_entry_t *e = find_entry(cfg, key);
    if (e && e->src > src)
        return KF_OK; /* a higher layer already set it */
    char *v = strdup(value);
    char *o = origin ? strdup(origin) : NULL;
    if (!v || (origin && !o)) {
        free(v);
        free(o);
        return KF_ERR_NOMEM;
    }
    if (!e) {
        if (cfg->n == cfg->cap) {
            size_t cap = cfg->cap ? cfg->cap * 2 : 16;
            kf_config_entry_t *ne = realloc(cfg->entries, cap * sizeof(*ne));
            if (!ne) {
                free(v);
                free(o);
                return KF_ERR_NOMEM;
            }
            cfg->entries = ne;
            cfg->cap = cap;
        }
        char *k = strdup(key);
        if (!k || note_model(cfg, key) != KF_OK) {
            free(k);
            free(v);
            free(o);
            return KF_ERR_NOMEM;
        }
        e = &cfg->entries[cfg->n++];
        e->key = k;
        e->value = NULL;
        e->origin = NULL;
    }
    free(e->value);
    free(e->origin);
    e->value = v;
    e->origin = o;
    e->src = src;
    return KF_OK;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

kf_status_t kf_config_set_pair(kf_config_t *cfg, const char *pair, int kafka_default,
                               kf_config_source_t src, const char *origin, char *err,
                               size_t errsz) {
    if (!cfg || !pair) {
        seterr(err, errsz, "kf_config_set_pair: NULL argument");
        return KF_ERR_INVALID_ARG;
    }
    const char *eq = strchr(pair, '=');
    if (!eq || eq == pair) {
        seterr(err, errsz, "'%s'%s%s: expected key=value", pair, origin ? " " : "",
               origin ? origin : "");
        return KF_ERR_CONFIG;
    }
    size_t klen = (size_t)(eq - pair);
    char *key = malloc(klen + 7);
    if (!key)
        return KF_ERR_NOMEM;
    int prefix = kafka_default && strncmp(pair, "kafka.", 6) != 0;
    snprintf(key, klen + 7, "%s%.*s", prefix ? "kafka." : "", (int)klen, pair);
    kf_status_t st = kf_config_set(cfg, key, eq + 1, src, origin, err, errsz);
    free(key);
    return st;
}

kf_status_t kf_config_load_string(kf_config_t *cfg, const char *text, const char *name, char *err,
                                  size_t errsz) {
    if (!cfg || !text) {
        seterr(err, errsz, "kf_config_load_string: NULL argument");
        return KF_ERR_INVALID_ARG;
    }
    if (!name)
        name = "<string>";
    char *buf = strdup(text);
    if (!buf)
        return KF_ERR_NOMEM;
    kf_status_t st = KF_OK;
    int lineno = 0;
    char *p = buf; /* walk by hand: strtok would skip empty lines and miscount */
    while (p && st == KF_OK) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        char *line = trim(p);
        p = nl ? nl + 1 : NULL;
        if (*line == '\0' || *line == '#' || *line == '!')
            continue;
        char origin[512];
        snprintf(origin, sizeof(origin), "%s:%d", name, lineno);
        char *eq = strchr(line, '=');
        if (!eq) {
            seterr(err, errsz, "%s: expected key=value, got '%s'", origin, line);
            st = KF_ERR_CONFIG;
            break;
        }
        *eq = '\0';
        char *key = trim(line);
        char *val = trim(eq + 1);
        if (*key == '\0') {
            seterr(err, errsz, "%s: empty key", origin);
            st = KF_ERR_CONFIG;
            break;
        }
        st = kf_config_set(cfg, key, val, KF_CFG_SRC_FILE, origin, err, errsz);
    }
    free(buf);
    return st;
}

kf_status_t kf_config_load_file(kf_config_t *cfg, const char *path, char *err, size_t errsz) {
    if (!cfg || !path) {
        seterr(err, errsz, "kf_config_load_file: NULL argument");
        return KF_ERR_INVALID_ARG;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        seterr(err, errsz, "config file %s: %s", path, strerror(errno));
        return KF_ERR_IO;
    }
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    kf_status_t st = text ? KF_OK : KF_ERR_NOMEM;
    while (st == KF_OK) {
        if (len + 1 >= cap) {
            if (cap >= (64u << 20)) {
                seterr(err, errsz, "config file %s: larger than 64 MiB", path);
                st = KF_ERR_LIMIT;
                break;
            }
            char *t = realloc(text, cap * 2);
            if (!t) {
                st = KF_ERR_NOMEM;
                break;
            }
            text = t;
            cap *= 2;
        }
        size_t r = fread(text + len, 1, cap - len - 1, f);
        len += r;
        if (r == 0) {
            if (ferror(f)) {
                seterr(err, errsz, "config file %s: read error", path);
                st = KF_ERR_IO;
            }
            break;
        }
    }
    fclose(f);
    if (st == KF_OK) {
        text[len] = '\0';
        if (strlen(text) != len) {
            seterr(err, errsz, "config file %s: contains a NUL byte", path);
            st = KF_ERR_CONFIG;
        } else {
            st = kf_config_load_string(cfg, text, path, err, errsz);
        }
    }
    free(text);
    return st;
}

/* Maps the part after KINFER_ to a key (written to `out`), or returns 0. */
static int env_to_key(const char *name, char *out, size_t outsz) {
    size_t nlen = strlen(name);
    if (!strncmp(name, "KAFKA_", 6) && name[6]) {
        if (nlen + 1 > outsz)
            return 0;
        size_t j = 0;
        memcpy(out, "kafka.", 6);
        j = 6;
        for (const char *p = name + 6; *p; p++)
            out[j++] = *p == '_' ? '.' : (char)tolower((unsigned char)*p);
        out[j] = '\0';
        return 1;
    }
    size_t best_lit = 0;
    int found = 0;
    for (size_t i = 0; i < kf_config_key_count(); i++) {
        const char *pat = kf_config_key_at(i)->name;
        char up[256];
        size_t pl = strlen(pat);
        if (pl >= sizeof(up))
            continue;
        for (size_t j = 0; j <= pl; j++)
            up[j] = pat[j] == '.' ? '_' : (char)toupper((unsigned char)pat[j]);
        const char *star = strchr(up, '*');
        if (!star) {
            if (!strcmp(up, name) && pl + 1 <= outsz && pl >= best_lit) {
                memcpy(out, pat, pl + 1);
                best_lit = pl;
                found = 1;
            }
            continue;
        }
        size_t pre = (size_t)(star - up), suf = pl - pre - 1;
        if (nlen <= pre + suf || strncmp(name, up, pre) != 0 ||
            strcmp(name + nlen - suf, star + 1) != 0 || pre + suf < best_lit)
            continue;
        size_t mid = nlen - pre - suf;
        if (pre + mid + suf + 1 > outsz)
            continue;
        memcpy(out, pat, pre);
        for (size_t j = 0; j < mid; j++)
            out[pre + j] = (char)tolower((unsigned char)name[pre + j]);
        memcpy(out + pre + mid, pat + pre + 1, suf + 1);
        best_lit = pre + suf;
        found = 1;
    }
    return found;
}

kf_status_t kf_config_load_env(kf_config_t *cfg, char *const *envp, char *err, size_t errsz) {
    if (!cfg) {
        seterr(err, errsz, "kf_config_load_env: NULL config");
        return KF_ERR_INVALID_ARG;
    }
    for (size_t i = 0; envp && envp[i]; i++) {
        const char *ev = envp[i];
        if (strncmp(ev, "KINFER_", 7) != 0)
            continue;
        const char *eq = strchr(ev, '=');
        if (!eq)
            continue;
        char name[256], key[300];
        size_t nl = (size_t)(eq - ev) - 7;
        if (nl == 0 || nl >= sizeof(name))
            continue;
        memcpy(name, ev + 7, nl);
        name[nl] = '\0';
        if (!env_to_key(name, key, sizeof(key)))
            continue;
        char origin[300];
        snprintf(origin, sizeof(origin), "KINFER_%s", name);
        kf_status_t st = kf_config_set(cfg, key, eq + 1, KF_CFG_SRC_ENV, origin, err, errsz);
        if (st != KF_OK)
            return st;
    }
    return KF_OK;
}

/* ---- getters ------------------------------------------------------------ */

const char *kf_config_get(const kf_config_t *cfg, const char *key) {
    if (!cfg || !key)
        return NULL;
    const kf_config_entry_t *e = find_entry(cfg, key);
    if (e)
        return e->value;
    const kf_config_key_t *k = kf_config_key_find(key);
    return k ? k->def : NULL;
}

int64_t kf_config_get_int(const kf_config_t *cfg, const char *key, int64_t fallback) {
    const char *v = kf_config_get(cfg, key);
    const kf_config_key_t *k = kf_config_key_find(key);
    int64_t n = 0;
    if (!v || !k)
        return fallback;
    kf_status_t st =
        k->type == KF_CFG_SIZE ? kf_config_parse_size(v, &n) : kf_config_parse_int(v, &n);
    return st == KF_OK ? n : fallback;
}

int kf_config_get_bool(const kf_config_t *cfg, const char *key, int fallback) {
    const char *v = kf_config_get(cfg, key);
    int b = 0;
    if (!v || kf_config_parse_bool(v, &b) != KF_OK)
        return fallback;
    return b;
}

kf_config_source_t kf_config_source(const kf_config_t *cfg, const char *key, const char **origin) {
    const kf_config_entry_t *e = (cfg && key) ? find_entry(cfg, key) : NULL;
    if (origin)
        *origin = e ? e->origin : NULL;
    return e ? e->src : KF_CFG_SRC_DEFAULT;
}

size_t kf_config_model_count(const kf_config_t *cfg) {
    return cfg ? cfg->n_models : 0;
}

const char *kf_config_model_name(const kf_config_t *cfg, size_t i) {
    return (cfg && i < cfg->n_models) ? cfg->models[i] : NULL;
}

kf_status_t kf_config_apply_kafka(const kf_config_t *cfg, rd_kafka_conf_t *conf, char *err,
                                  size_t errsz) {
    if (!cfg || !conf) {
        seterr(err, errsz, "kf_config_apply_kafka: NULL argument");
        return KF_ERR_INVALID_ARG;
    }
    char rderr[512];
    const kf_config_entry_t *b = find_entry(cfg, "bootstrap");
    if (b && !find_entry(cfg, "kafka.bootstrap.servers") &&
        rd_kafka_conf_set(conf, "bootstrap.servers", b->value, rderr, sizeof(rderr)) !=
            RD_KAFKA_CONF_OK) {
        seterr(err, errsz, "config key 'bootstrap' (%s): %s", b->origin ? b->origin : "?", rderr);
        return KF_ERR_CONFIG;
    }
    for (size_t i = 0; i < cfg->n; i++) {
        const kf_config_entry_t *e = &cfg->entries[i];
        if (!is_kafka_key(e->key))
            continue;
        if (rd_kafka_conf_set(conf, e->key + 6, e->value, rderr, sizeof(rderr)) !=
            RD_KAFKA_CONF_OK) {
            seterr(err, errsz, "config key '%s' (%s, from %s): %s", e->key,
                   e->origin ? e->origin : "?", src_names[e->src], rderr);
            return KF_ERR_CONFIG;
        }
    }
    return KF_OK;
}

kf_config_t *kf_config_load(const char *file, char *const *sets, size_t n_sets, char *const *xprops,
                            size_t n_x, char *const *envp, char *err, size_t errsz) {
    kf_config_t *cfg = kf_config_new();
    if (!cfg) {
        seterr(err, errsz, "out of memory");
        return NULL;
    }
    kf_status_t st = KF_OK;
    if (file)
        st = kf_config_load_file(cfg, file, err, errsz);
    for (size_t i = 0; st == KF_OK && i < n_sets; i++)
        st = kf_config_set_pair(cfg, sets[i], 0, KF_CFG_SRC_FLAG, "--set", err, errsz);
    for (size_t i = 0; st == KF_OK && i < n_x; i++)
        st = kf_config_set_pair(cfg, xprops[i], 1, KF_CFG_SRC_FLAG, "-X", err, errsz);
    if (st == KF_OK && envp)
        st = kf_config_load_env(cfg, envp, err, errsz);
    if (st != KF_OK) {
        if (st == KF_ERR_NOMEM)
            seterr(err, errsz, "out of memory");
        kf_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static int looks_secret(const char *key) {
    return strstr(key, "secret") || strstr(key, "password") || strstr(key, "token") ||
           strstr(key, "sasl.");
}

void kf_config_dump(const kf_config_t *cfg, FILE *out) {
    if (!cfg || !out)
        return;
    for (size_t i = 0; i < cfg->n; i++) {
        const kf_config_entry_t *e = &cfg->entries[i];
        fprintf(out, "%s=%s  # %s%s%s\n", e->key, looks_secret(e->key) ? "***" : e->value,
                src_names[e->src], e->origin ? " " : "", e->origin ? e->origin : "");
    }
}

void kf_config_print_keys(FILE *out) {
    fprintf(out, "configuration keys (file key=value, --set key=value, KINFER_<KEY> env):\n");
    for (size_t i = 0; i < kf_config_key_count(); i++) {
        const kf_config_key_t *k = kf_config_key_at(i);
        char t[96];
        if (k->type == KF_CFG_ENUM)
            snprintf(t, sizeof(t), "%s", k->choices);
        else
            snprintf(t, sizeof(t), "%s", type_name(k->type));
        fprintf(out, "  %-28s %-26s %s%s%s%s\n", k->name, t, k->help, k->def ? " [default: " : "",
                k->def ? k->def : "", k->def ? "]" : "");
    }
    fprintf(out, "  %-28s %-26s %s\n", "kafka.<property>", "string",
            "passed to librdkafka unchanged (also -X property=value)");
}
