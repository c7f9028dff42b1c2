/* kf_config: the worker's configuration.
 *
 * Three layers, in increasing precedence: a properties file (`key=value`
 * lines, `#` or `!` comments, spaces around key and value trimmed), CLI flags,
 * and KINFER_* environment variables. A value set by a higher layer is never
 * replaced by a lower one, whatever order the layers are loaded in. Keys that
 * are not set fall back to the default in the key table.
 *
 * Known keys are one table (kf_config_keys.c): name, type, default, allowed
 * values and help. Validation, --help output and environment mapping all come
 * from it; to add a key, add a row there. A row's name may contain one `*`
 * segment, e.g. `model.*.max_batch`, matching `model.mnist.max_batch`.
 *
 * An unknown key is an error naming the key (and file:line for files).
 * Every `kafka.<prop>` key is passed to librdkafka unchanged as `<prop>`
 * (like kcat's `-X prop=value`); kf_config_apply_kafka() reports
 * rd_kafka_conf_set errors with the key.
 *
 * Environment rule: a variable KINFER_<NAME> maps to the table key whose
 * name, with `.` replaced by `_` and upper-cased, equals NAME; a `*` segment
 * matches any non-empty run of characters, which is lower-cased
 * (KINFER_MODEL_MNIST_MAX_BATCH -> model.mnist.max_batch). KINFER_KAFKA_<P>
 * maps to kafka.<p> with `_` -> `.` and lower-cased
 * (KINFER_KAFKA_SECURITY_PROTOCOL -> kafka.security.protocol). Variables
 * that map to no key (KINFER_BIN ...) are ignored, since other tools share
 * the prefix.
 *
 * Threads: a kf_config_t is built by one thread; after loading it is only
 * read, and any thread may read it concurrently. Strings returned by getters
 * are owned by the config and live until kf_config_free() or until the key
 * is set again. */
#ifndef KF_CONFIG_H
#define KF_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <librdkafka/rdkafka.h>

#include "kf_status.h"

typedef enum kf_config_type {
    KF_CFG_STRING = 0, /* any text */
    KF_CFG_INT,        /* decimal integer within [min, max] */
    KF_CFG_BOOL,       /* true|false|1|0|yes|no|on|off */
    KF_CFG_ENUM,       /* one of `choices` ("raw|confluent|auto"); a choice
                        * "cuda:N" takes cuda:0 .. cuda:1024 */
    KF_CFG_SIZE,       /* bytes, optional suffix k/m/g (powers of 1024), within [min, max] */
    KF_CFG_LIST        /* comma-separated strings, no empty items */
} kf_config_type_t;

/* One row of the key table. */
typedef struct kf_config_key {
    const char *name; /* "codec", "model.*.max_batch" */
    kf_config_type_t type;
    const char *def;     /* default as text; NULL = no default (unset) */
    const char *choices; /* KF_CFG_ENUM: "a|b|c"; else NULL */
    int64_t min, max;    /* KF_CFG_INT / KF_CFG_SIZE bounds (inclusive) */
    const char *help;    /* one line */
} kf_config_key_t;

/* Where a value came from, in increasing precedence. */
typedef enum kf_config_source {
    KF_CFG_SRC_DEFAULT = 0,
    KF_CFG_SRC_FILE,
    KF_CFG_SRC_FLAG,
    KF_CFG_SRC_ENV
} kf_config_source_t;

typedef struct kf_config kf_config_t;

/* The key table (static, read-only; any thread). */
size_t kf_config_key_count(void);
const kf_config_key_t *kf_config_key_at(size_t i);
/* The table row matching `key` (patterns included), or NULL. kafka.* keys
 * have no row. */
const kf_config_key_t *kf_config_key_find(const char *key);

/* Returns an empty config (caller owns; kf_config_free) or NULL on OOM. */
kf_config_t *kf_config_new(void);
/* Frees the config; NULL is a no-op. */
void kf_config_free(kf_config_t *cfg);

/* Sets `key` to `value` from layer `src`. `origin` names where it came from
 * for messages ("worker.properties:12", "--set", "KINFER_CODEC"; may be NULL;
 * copied). The value is validated against the table now. A value from a
 * lower layer than the one already set is validated and then ignored.
 * KF_ERR_CONFIG (with `err` naming key and origin) on an unknown key or bad
 * value; KF_ERR_NOMEM. */
kf_status_t kf_config_set(kf_config_t *cfg, const char *key, const char *value,
                          kf_config_source_t src, const char *origin, char *err, size_t errsz);

/* Parses "key=value" (as given to -X or --set) and sets it from `src`. A
 * bare librdkafka property without the kafka. prefix is accepted when
 * `kafka_default` is non-zero (kcat's -X style). */
kf_status_t kf_config_set_pair(kf_config_t *cfg, const char *pair, int kafka_default,
                               kf_config_source_t src, const char *origin, char *err, size_t errsz);

/* Loads a properties file (layer FILE). Errors name path:line and the key. */
kf_status_t kf_config_load_file(kf_config_t *cfg, const char *path, char *err, size_t errsz);
/* Same for text already in memory; `name` is used in messages. */
kf_status_t kf_config_load_string(kf_config_t *cfg, const char *text, const char *name, char *err,
                                  size_t errsz);
/* Loads KINFER_* variables from `envp` (NULL-terminated "NAME=value" list,
 * e.g. `environ`) as layer ENV. */
kf_status_t kf_config_load_env(kf_config_t *cfg, char *const *envp, char *err, size_t errsz);

/* Getters. `key` may be any concrete key (model.mnist.max_batch); when unset
 * they return the table default. kf_config_get returns NULL when the key is
 * unset and has no default. For int/size/bool a key that is unset with no
 * default, or unknown, yields `fallback`. */
const char *kf_config_get(const kf_config_t *cfg, const char *key);
int64_t kf_config_get_int(const kf_config_t *cfg, const char *key, int64_t fallback);
int kf_config_get_bool(const kf_config_t *cfg, const char *key, int fallback);
/* Which layer the current value of `key` came from, and its origin text
 * (NULL for defaults). */
kf_config_source_t kf_config_source(const kf_config_t *cfg, const char *key, const char **origin);

/* Model names seen in model.<name>.* keys, in first-seen order. */
size_t kf_config_model_count(const kf_config_t *cfg);
const char *kf_config_model_name(const kf_config_t *cfg, size_t i);

/* Passes every kafka.<prop> value (highest layer wins per prop) to
 * rd_kafka_conf_set(conf, prop, value). On failure `err` names the key and
 * its origin and carries librdkafka's message; KF_ERR_CONFIG. */
kf_status_t kf_config_apply_kafka(const kf_config_t *cfg, rd_kafka_conf_t *conf, char *err,
                                  size_t errsz);

/* Builds a config from all three layers in one call, for config-driven
 * commands such as `kinfer worker`: the properties file `file` (NULL =
 * none), then `sets` ("key=value", from --set; n_sets entries) and `xprops`
 * (librdkafka "prop=value", from -X; n_x entries) as the FLAG layer, then
 * KINFER_* from `envp` (NULL = none). Returns a new config (caller owns) or
 * NULL with `err` naming the bad key and where it came from. */
kf_config_t *kf_config_load(const char *file, char *const *sets, size_t n_sets, char *const *xprops,
                            size_t n_x, char *const *envp, char *err, size_t errsz);

/* Prints every key that is set (not defaults), one "key=value  # source
 * origin" line each, in the order they were first set. Values of keys that
 * look secret (containing "secret", "password", "token" or "sasl.") print
 * as "***". */
void kf_config_dump(const kf_config_t *cfg, FILE *out);

/* Prints the key table (name, type, default, help) for --help. */
void kf_config_print_keys(FILE *out);

/* Parses a value of `type` the way kf_config_set validates it. Used by the
 * getters and by CLIs that take the same kinds of values. */
kf_status_t kf_config_parse_int(const char *s, int64_t *out);
kf_status_t kf_config_parse_size(const char *s, int64_t *out);
kf_status_t kf_config_parse_bool(const char *s, int *out);

#endif
