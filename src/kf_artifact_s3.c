#include "kf_artifact_s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SHA-256 of the empty body: every GET signs this as its payload hash. */
#define KF_S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

kf_s3_params_t kf_s3_default_params(void) {
    kf_s3_params_t p;
    memset(&p, 0, sizeof(p));
    p.path_style = -1;
    return p;
}

int kf_s3_is_url(const char *url) {
    return url && strncmp(url, "s3://", 5) == 0;
}

static const char *region_of(const kf_s3_params_t *p) {
    if (p && p->region && *p->region)
        return p->region;
    const char *env = getenv("AWS_REGION");
    if (env && *env)
        return env;
    env = getenv("AWS_DEFAULT_REGION");
    if (env && *env)
        return env;
    return "us-east-1";
}

static int unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~' || c == '/';
}

/* Appends the percent-encoded key to buf (sized by the caller for 3x). */
static void encode_key(const char *key, char *out) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *s = (const unsigned char *)key; *s; s++) {
        if (unreserved(*s)) {
            *out++ = (char)*s;
        } else {
            *out++ = '%';
            *out++ = hex[*s >> 4];
            *out++ = hex[*s & 15];
        }
    }
    *out = '\0';
}

kf_status_t kf_s3_http_url(const kf_s3_params_t *p, const char *s3url, char **out, char *errstr,
                           size_t errstr_size) {
    if (!s3url || !out)
        return KF_ERR_INVALID_ARG;
    *out = NULL;
    if (!kf_s3_is_url(s3url)) {
        snprintf(errstr, errstr_size, "'%s' is not an s3:// URL", s3url);
        return KF_ERR_INVALID_ARG;
    }
    const char *bucket = s3url + 5;
    const char *slash = strchr(bucket, '/');
    if (!slash || slash == bucket || slash[1] == '\0') {
        snprintf(errstr, errstr_size, "'%s': want s3://bucket/key", s3url);
        return KF_ERR_INVALID_ARG;
    }
    size_t blen = (size_t)(slash - bucket);
    for (size_t i = 0; i < blen; i++) {
        char c = bucket[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_') ||
            blen > 63) {
            snprintf(errstr, errstr_size, "'%s': bad bucket name (want [A-Za-z0-9._-], at most 63)",
                     s3url);
            return KF_ERR_INVALID_ARG;
        }
    }
    const char *key = slash + 1;
    char *ekey = malloc(strlen(key) * 3 + 1);
    if (!ekey)
        return KF_ERR_NOMEM;
    encode_key(key, ekey);

    const char *endpoint = p ? p->endpoint : NULL;
    int path_style = p ? p->path_style : -1;
    char dflt[128];
    if (!endpoint || !*endpoint) {
        snprintf(dflt, sizeof(dflt), "https://s3.%s.amazonaws.com", region_of(p));
        endpoint = dflt;
        if (path_style < 0)
            path_style = 0;
    } else if (path_style < 0) {
        path_style = 1;
    }
    size_t elen = strlen(endpoint);
    while (elen > 0 && endpoint[elen - 1] == '/')
        elen--;
    size_t cap = elen + blen + strlen(ekey) + 8;
    char *url = malloc(cap);
    if (!url) {
        free(ekey);
        return KF_ERR_NOMEM;
    }
    if (path_style) {
        snprintf(url, cap, "%.*s/%.*s/%s", (int)elen, endpoint, (int)blen, bucket, ekey);
    } else {
        const char *host = strstr(endpoint, "://");
        if (!host || (size_t)(host - endpoint) + 3 > elen) {
            snprintf(errstr, errstr_size,
                     "s3 endpoint '%s' has no scheme (want http:// or https://)", endpoint);
            free(ekey);
            free(url);
            return KF_ERR_CONFIG;
        }
        host += 3;
        int slen = (int)(host - endpoint);
        snprintf(url, cap, "%.*s%.*s.%.*s/%s", slen, endpoint, (int)blen, bucket,
                 (int)(elen - (size_t)slen), host, ekey);
    }
    free(ekey);
    *out = url;
    return KF_OK;
}

static const char *pick(const char *v, const char *env) {
    if (v && *v)
        return v;
    const char *e = getenv(env);
    return (e && *e) ? e : NULL;
}

static kf_status_t add_header(struct curl_slist **headers, const char *h, char *errstr,
                              size_t errstr_size) {
    struct curl_slist *n = curl_slist_append(*headers, h);
    if (!n) {
        snprintf(errstr, errstr_size, "s3: out of memory building headers");
        return KF_ERR_NOMEM;
    }
    *headers = n;
    return KF_OK;
}

kf_status_t kf_s3_sign_setup(const kf_s3_params_t *p, CURL *curl, struct curl_slist **headers,
                             char *errstr, size_t errstr_size) {
    if (!curl || !headers)
        return KF_ERR_INVALID_ARG;
    const char *ak = pick(p ? p->access_key : NULL, "AWS_ACCESS_KEY_ID");
    const char *sk = pick(p ? p->secret_key : NULL, "AWS_SECRET_ACCESS_KEY");
    const char *tok = pick(p ? p->session_token : NULL, "AWS_SESSION_TOKEN");
    if (!ak)
        return KF_OK; /* anonymous request */
    if (!sk) {
        snprintf(errstr, errstr_size,
                 "s3: an access key is set but no secret key (AWS_SECRET_ACCESS_KEY)");
        return KF_ERR_CONFIG;
    }
    char prov[160];
    snprintf(prov, sizeof(prov), "aws:amz:%s:s3", region_of(p));
    kf_status_t st =
        add_header(headers, "x-amz-content-sha256: " KF_S3_EMPTY_SHA256, errstr, errstr_size);
    if (st != KF_OK)
        return st;
    if (tok) {
        size_t n = strlen(tok) + 32;
        char *h = malloc(n);
        if (!h)
            return KF_ERR_NOMEM;
        snprintf(h, n, "x-amz-security-token: %s", tok);
        st = add_header(headers, h, errstr, errstr_size);
        free(h);
        if (st != KF_OK)
            return st;
    }
    if (curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, prov) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_USERNAME, ak) != CURLE_OK ||
        curl_easy_setopt(curl, CURLOPT_PASSWORD, sk) != CURLE_OK) {
        snprintf(errstr, errstr_size, "s3: this libcurl does not support CURLOPT_AWS_SIGV4");
        return KF_ERR_UNSUPPORTED;
    }
    return KF_OK;
}
