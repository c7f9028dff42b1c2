#include "kf_dtype.h"

#include <strings.h>

static const struct {
    const char *name;
    size_t size;
} dtypes[KF_DTYPE_COUNT] = {
    [KF_DTYPE_FLOAT32] = {"FLOAT32", 4},   [KF_DTYPE_FLOAT16] = {"FLOAT16", 2},
    [KF_DTYPE_BFLOAT16] = {"BFLOAT16", 2}, [KF_DTYPE_FLOAT64] = {"FLOAT64", 8},
    [KF_DTYPE_INT8] = {"INT8", 1},         [KF_DTYPE_UINT8] = {"UINT8", 1},
    [KF_DTYPE_INT32] = {"INT32", 4},       [KF_DTYPE_INT64] = {"INT64", 8},
    [KF_DTYPE_BOOL] = {"BOOL", 1},
};

/* Short names and common aliases accepted by kf_dtype_parse. */
static const struct {
    const char *alias;
    kf_dtype_t dt;
} aliases[] = {
    {"f32", KF_DTYPE_FLOAT32},    {"float", KF_DTYPE_FLOAT32}, {"f16", KF_DTYPE_FLOAT16},
    {"half", KF_DTYPE_FLOAT16},   {"bf16", KF_DTYPE_BFLOAT16}, {"f64", KF_DTYPE_FLOAT64},
    {"double", KF_DTYPE_FLOAT64}, {"i8", KF_DTYPE_INT8},       {"u8", KF_DTYPE_UINT8},
    {"i32", KF_DTYPE_INT32},      {"int", KF_DTYPE_INT32},     {"i64", KF_DTYPE_INT64},
    {"long", KF_DTYPE_INT64},
};

int kf_dtype_valid(int v) {
    return v >= 0 && v < (int)KF_DTYPE_COUNT;
}

size_t kf_dtype_size(kf_dtype_t dt) {
    return kf_dtype_valid((int)dt) ? dtypes[dt].size : 0;
}

const char *kf_dtype_name(kf_dtype_t dt) {
    return kf_dtype_valid((int)dt) ? dtypes[dt].name : "INVALID";
}

kf_status_t kf_dtype_parse(const char *s, kf_dtype_t *out) {
    if (!s || !out)
        return KF_ERR_INVALID_ARG;
    for (int i = 0; i < (int)KF_DTYPE_COUNT; i++) {
        if (strcasecmp(s, dtypes[i].name) == 0) {
            *out = (kf_dtype_t)i;
            return KF_OK;
        }
    }
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (strcasecmp(s, aliases[i].alias) == 0) {
            *out = aliases[i].dt;
            return KF_OK;
        }
    }
    return KF_ERR_INVALID_ARG;
}
