#include "kf_artifact_fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ERRBODY_MAX 512

kf_fetch_params_t kf_fetch_default_params(void) {
    kf_fetch_params_t p;
    memset(&p, 0, sizeof(p));
    p.connect_timeout_ms = 5000;
    p.timeout_ms = 0;
    p.stall_timeout_ms = 30000;
    p.max_retries = 4;
    p.backoff_initial_ms = 200;
    p.backoff_max_ms = 5000;
    p.max_bytes = (uint64_t)4 << 30;
    p.s3 = kf_s3_default_params();
    return p;
}

long kf_fetch_backoff_ms(const kf_fetch_params_t *p, int retry, unsigned *seed) {
    long base = p->backoff_initial_ms > 0 ? p->backoff_initial_ms : 1;
    long cap = p->backoff_max_ms > 0 ? p->backoff_max_ms : base;
    long d = base;
    for (int i = 0; i < retry && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    long half = d / 2;
    long r = seed ? (long)(rand_r(seed) % (half + 1)) : half;
    return half + r;
}

char *kf_fetch_normalize_url(const char *u) {
    if (!u)
        return NULL;
    if (strstr(u, "://"))
        return strdup(u);
    char cwd[PATH_MAX];
    const char *prefix = "";
    if (u[0] != '/') {
        if (!getcwd(cwd, sizeof(cwd)))
            return NULL;
        prefix = cwd;
    }
    size_t n = strlen(prefix) + strlen(u) + 16;
    char *out = malloc(n);
    if (!out)
        return NULL;
    snprintf(out, n, "file://%s%s%s", prefix, *prefix ? "/" : "", u);
    return out;
}

/* One attempt's state, shared with the curl callbacks. */
typedef struct xfer {
    FILE *f;
    uint64_t have;    /* bytes in the file before this attempt */
    uint64_t written; /* bytes written to the file in this attempt */
    int ranged;       /* a Range was requested */
    int body_started; /* first body byte seen: mode decided */
    int to_file;      /* body is content (200/206), not an error page */
    int over_cap;
    int io_error;
    uint64_t max_bytes;
    char etag[KF_FETCH_ETAG_MAX];
    long retry_after_ms; /* Retry-After (seconds form) of the last response, or -1 */
    char errbody[ERRBODY_MAX + 1];
    size_t errlen;
    CURL *curl;
    int is_http;
    const atomic_int *cancel;
} xfer_t;

static size_t on_header(char *buf, size_t size, size_t n, void *ud) {
    xfer_t *x = ud;
    size_t len = size * n;
    if (len > 12 && strncasecmp(buf, "retry-after:", 12) == 0) {
        char num[24];
        size_t i = 12, k = 0;
        while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
            i++;
        while (i < len && k + 1 < sizeof(num) && buf[i] >= '0' && buf[i] <= '9')
            num[k++] = buf[i++];
        num[k] = '\0';
        if (k > 0 && k < 8)
            x->retry_after_ms = strtol(num, NULL, 10) * 1000L;
    }
    if (len > 5 && strncasecmp(buf, "etag:", 5) == 0) {
        size_t i = 5;
        while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
            i++;
        size_t j = len;
        while (j > i && (buf[j - 1] == '\r' || buf[j - 1] == '\n' || buf[j - 1] == ' '))
            j--;
        size_t m = j - i;
        if (m >= sizeof(x->etag))
            m = sizeof(x->etag) - 1;
        memcpy(x->etag, buf + i, m);
        x->etag[m] = '\0';
    }
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud) {
    xfer_t *x = ud;
    size_t len = size * n;
    if (!x->body_started) {
        x->body_started = 1;
        long code = 0;
        if (x->is_http)
            curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
        if (!x->is_http || code == 200 || code == 206) {
            x->to_file = 1;
            if (x->is_http && code == 200 && x->have > 0) {
                /* the server sent the whole object: start over */
                if (fflush(x->f) != 0 || ftruncate(fileno(x->f), 0) != 0 ||
                    fseeko(x->f, 0, SEEK_SET) != 0) {
                    x->io_error = 1;
                    return 0;
                }
                x->have = 0;
            }
        }
    }
    if (!x->to_file) {
        size_t room = ERRBODY_MAX - x->errlen;
        size_t m = len < room ? len : room;
        memcpy(x->errbody + x->errlen, buf, m);
        x->errlen += m;
        x->errbody[x->errlen] = '\0';
        return len;
    }
    if (x->max_bytes && x->have + x->written + len > x->max_bytes) {
        x->over_cap = 1;
        return 0;
    }
    if (fwrite(buf, 1, len, x->f) != len) {
        x->io_error = 1;
        return 0;
    }
    x->written += len;
    return len;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
    (void)a, (void)b, (void)c, (void)d;
    xfer_t *x = ud;
    return (x->cancel && atomic_load(x->cancel)) ? 1 : 0;
}

/* Extracts <Code>..</Code> from an S3 error body, if any. */
static void s3_code(const char *body, char *out, size_t outsz) {
    out[0] = '\0';
    const char *a = strstr(body, "<Code>");
    if (!a)
        return;
    a += 6;
    const char *b = strstr(a, "</Code>");
    if (!b || (size_t)(b - a) >= outsz)
        return;
    memcpy(out, a, (size_t)(b - a));
    out[b - a] = '\0';
}

static int sleep_ms(long ms, const atomic_int *cancel) {
    while (ms > 0) {
        if (cancel && atomic_load(cancel))
            return -1;
        long step = ms > 50 ? 50 : ms;
        struct timespec ts = {step / 1000, (step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return (cancel && atomic_load(cancel)) ? -1 : 0;
}

typedef enum { ATT_DONE, ATT_NOT_MODIFIED, ATT_RETRY, ATT_FAIL } att_t;

kf_status_t kf_fetch_file(const kf_fetch_params_t *pp, const char *url_in,
                          const char *if_none_match, const char *expect_sha256, const char *dest,
                          kf_fetch_result_t *res, char *errstr, size_t errstr_size) {
    kf_fetch_params_t dp = kf_fetch_default_params();
    const kf_fetch_params_t *p = pp ? pp : &dp;
    kf_fetch_result_t local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof(*res));
    if (errstr && errstr_size)
        errstr[0] = '\0';
    if (!url_in || !dest)
        return KF_ERR_INVALID_ARG;

    char *url = NULL;
    kf_status_t st = KF_OK;
    int is_s3 = kf_s3_is_url(url_in);
    if (is_s3) {
        st = kf_s3_http_url(&p->s3, url_in, &url, errstr, errstr_size);
        if (st != KF_OK)
            return st;
    } else {
        url = kf_fetch_normalize_url(url_in);
        if (!url)
            return KF_ERR_NOMEM;
    }
    int is_http = strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
    if (!is_http && strncasecmp(url, "file://", 7) != 0) {
        snprintf(errstr, errstr_size,
                 "%s: unsupported scheme (want http, https, s3, file or a path)", url_in);
        free(url);
        return KF_ERR_INVALID_ARG;
    }

    size_t tlen = strlen(dest) + 32;
    char *tmp = malloc(tlen);
    CURL *curl = curl_easy_init();
    if (!tmp || !curl) {
        free(tmp);
        free(url);
        if (curl)
            curl_easy_cleanup(curl);
        return KF_ERR_NOMEM;
    }
    snprintf(tmp, tlen, "%s.part", dest);
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid() ^ (unsigned)(uintptr_t)tmp;
    char etag[KF_FETCH_ETAG_MAX] = "";
    char cerr[CURL_ERROR_SIZE];
    /* A leftover .part from an earlier process is stale (no ETag to guard a
     * resume): start clean. */
    unlink(tmp);

    att_t outcome = ATT_FAIL;
    for (int attempt = 0; attempt <= p->max_retries; attempt++) {
        if (p->cancel && atomic_load(p->cancel)) {
            snprintf(errstr, errstr_size, "%s: cancelled", url_in);
            st = KF_ERR_IO;
            outcome = ATT_FAIL;
            break;
        }
        struct stat sb;
        uint64_t have = (stat(tmp, &sb) == 0) ? (uint64_t)sb.st_size : 0;
        /* resume only when we can tell it is the same object */
        int can_resume = have > 0 && (!is_http || etag[0]);
        FILE *f = fopen(tmp, can_resume ? "ab" : "wb");
        if (!f) {
            snprintf(errstr, errstr_size, "%s: cannot write %s: %s", url_in, tmp, strerror(errno));
            st = KF_ERR_IO;
            outcome = ATT_FAIL;
            break;
        }
        if (!can_resume)
            have = 0;
        xfer_t x;
        memset(&x, 0, sizeof(x));
        x.f = f;
        x.have = have;
        x.max_bytes = p->max_bytes;
        x.curl = curl;
        x.is_http = is_http;
        x.cancel = p->cancel;
        x.ranged = have > 0;
        x.retry_after_ms = -1;

        struct curl_slist *hdrs = NULL;
        char hbuf[KF_FETCH_ETAG_MAX + 32];
        char range[32];
        curl_easy_reset(curl);
        cerr[0] = '\0';
        int ok = 1;
        ok &= curl_easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK;
        ok &= curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr) == CURLE_OK;
        ok &= curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
        ok &= curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
        ok &= curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x) == CURLE_OK;
        ok &= curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
        ok &= curl_easy_setopt(curl, CURLOPT_HEADERDATA, &x) == CURLE_OK;
        ok &= curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress) == CURLE_OK;
        ok &= curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &x) == CURLE_OK;
        ok &= curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L) == CURLE_OK;
        ok &= curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, p->connect_timeout_ms) == CURLE_OK;
        ok &= curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, p->timeout_ms > 0 ? p->timeout_ms : 0L) ==
              CURLE_OK;
        if (p->stall_timeout_ms > 0) {
            long s = (p->stall_timeout_ms + 999) / 1000;
            ok &= curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L) == CURLE_OK;
            ok &= curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, s) == CURLE_OK;
        }
        if (is_http) {
            ok &= curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK;
            ok &= curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L) == CURLE_OK;
            ok &= curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,file") == CURLE_OK;
            ok &= curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK;
        }
        if (p->ca_file && *p->ca_file)
            ok &= curl_easy_setopt(curl, CURLOPT_CAINFO, p->ca_file) == CURLE_OK;
        if (p->max_bytes)
            ok &= curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                                   (curl_off_t)(p->max_bytes > (uint64_t)INT64_MAX
                                                    ? INT64_MAX
                                                    : (int64_t)p->max_bytes)) == CURLE_OK;
        if (have > 0) {
            snprintf(range, sizeof(range), "%llu-", (unsigned long long)have);
            ok &= curl_easy_setopt(curl, CURLOPT_RANGE, range) == CURLE_OK;
            if (is_http && etag[0]) {
                snprintf(hbuf, sizeof(hbuf), "If-Range: %s", etag);
                struct curl_slist *n = curl_slist_append(hdrs, hbuf);
                ok &= n != NULL;
                if (n)
                    hdrs = n;
            }
            res->resumed++;
        } else if (is_http && if_none_match && *if_none_match) {
            snprintf(hbuf, sizeof(hbuf), "If-None-Match: %s", if_none_match);
            struct curl_slist *n = curl_slist_append(hdrs, hbuf);
            ok &= n != NULL;
            if (n)
                hdrs = n;
        }
        if (ok && is_s3) {
            st = kf_s3_sign_setup(&p->s3, curl, &hdrs, errstr, errstr_size);
            if (st != KF_OK) {
                curl_slist_free_all(hdrs);
                fclose(f);
                outcome = ATT_FAIL;
                break;
            }
        }
        if (hdrs)
            ok &= curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs) == CURLE_OK;
        if (!ok) {
            curl_slist_free_all(hdrs);
            fclose(f);
            snprintf(errstr, errstr_size, "%s: cannot configure libcurl", url_in);
            st = KF_ERR_INTERNAL;
            outcome = ATT_FAIL;
            break;
        }

        res->attempts++;
        CURLcode rc = curl_easy_perform(curl);
        long code = 0;
        if (is_http)
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        res->http_status = code;
        curl_slist_free_all(hdrs);
        if (fclose(f) != 0)
            x.io_error = 1;
        if (x.etag[0])
            memcpy(etag, x.etag, sizeof(etag));

        char why[ERRBODY_MAX + 128];
        why[0] = '\0';
        att_t a;
        if (x.over_cap || rc == CURLE_FILESIZE_EXCEEDED) {
            snprintf(errstr, errstr_size, "%s: object exceeds the size cap of %llu bytes", url_in,
                     (unsigned long long)p->max_bytes);
            st = KF_ERR_LIMIT;
            a = ATT_FAIL;
        } else if (x.io_error) {
            snprintf(errstr, errstr_size, "%s: writing %s failed: %s", url_in, tmp,
                     strerror(errno));
            st = KF_ERR_IO;
            a = ATT_FAIL;
        } else if (rc == CURLE_ABORTED_BY_CALLBACK) {
            snprintf(errstr, errstr_size, "%s: cancelled", url_in);
            st = KF_ERR_IO;
            a = ATT_FAIL;
        } else if (rc == CURLE_OK && is_http && code == 304) {
            a = ATT_NOT_MODIFIED;
        } else if (rc == CURLE_OK && (!is_http || code == 200 || code == 206)) {
            a = ATT_DONE;
        } else if (rc == CURLE_OK) {
            char s3c[96];
            s3_code(x.errbody, s3c, sizeof(s3c));
            snprintf(why, sizeof(why), "HTTP %ld%s%s", code, s3c[0] ? " " : "", s3c);
            if (code >= 500 || code == 429 || code == 408) {
                a = ATT_RETRY;
                st = KF_ERR_IO;
            } else {
                a = ATT_FAIL;
                st = (code == 404 || code == 410) ? KF_ERR_NOT_FOUND : KF_ERR_IO;
                snprintf(errstr, errstr_size, "%s: %s (not retried)", url_in, why);
            }
        } else if (rc == CURLE_FILE_COULDNT_READ_FILE) {
            snprintf(errstr, errstr_size, "%s: cannot read file: %s", url_in, cerr[0] ? cerr : "");
            st = KF_ERR_NOT_FOUND;
            a = ATT_FAIL;
        } else {
            snprintf(why, sizeof(why), "%s", cerr[0] ? cerr : curl_easy_strerror(rc));
            st = rc == CURLE_OPERATION_TIMEDOUT ? KF_ERR_TIMEOUT : KF_ERR_IO;
            switch (rc) {
            case CURLE_COULDNT_CONNECT:
            case CURLE_COULDNT_RESOLVE_HOST:
            case CURLE_COULDNT_RESOLVE_PROXY:
            case CURLE_OPERATION_TIMEDOUT:
            case CURLE_PARTIAL_FILE:
            case CURLE_RECV_ERROR:
            case CURLE_SEND_ERROR:
            case CURLE_GOT_NOTHING:
            case CURLE_HTTP2:
            case CURLE_HTTP2_STREAM:
            case CURLE_SSL_CONNECT_ERROR: a = ATT_RETRY; break;
            default:
                a = ATT_FAIL;
                snprintf(errstr, errstr_size, "%s: %s", url_in, why);
                break;
            }
        }
        if (a != ATT_RETRY) {
            outcome = a;
            break;
        }
        if (attempt == p->max_retries) {
            res->unreachable = 1;
            snprintf(errstr, errstr_size, "%s: %s (gave up after %d attempts)", url_in, why,
                     res->attempts);
            outcome = ATT_FAIL;
            break;
        }
        long delay = kf_fetch_backoff_ms(p, attempt, &seed);
        if (x.retry_after_ms > delay) /* the server asked for more; capped */
            delay = x.retry_after_ms < p->backoff_max_ms ? x.retry_after_ms : p->backoff_max_ms;
        kf_log(p->log, KF_LOG_WARN, "fetch %s: attempt %d failed (%s); retrying in %ld ms", url_in,
               res->attempts, why, delay);
        if (sleep_ms(delay, p->cancel) != 0) {
            snprintf(errstr, errstr_size, "%s: cancelled", url_in);
            st = KF_ERR_IO;
            outcome = ATT_FAIL;
            break;
        }
    }
    curl_easy_cleanup(curl);
    free(url);
    memcpy(res->etag, etag, sizeof(etag));

    if (outcome == ATT_NOT_MODIFIED) {
        unlink(tmp);
        free(tmp);
        res->not_modified = 1;
        if (if_none_match && !res->etag[0])
            snprintf(res->etag, sizeof(res->etag), "%s", if_none_match);
        return KF_OK;
    }
    if (outcome != ATT_DONE) {
        unlink(tmp);
        free(tmp);
        return st != KF_OK ? st : KF_ERR_IO;
    }
    char lerr[256];
    st = kf_sha256_file(tmp, res->sha256, lerr, sizeof(lerr));
    if (st != KF_OK) {
        snprintf(errstr, errstr_size, "%s: hashing the download failed: %s", url_in, lerr);
        unlink(tmp);
        free(tmp);
        return st;
    }
    if (expect_sha256 && *expect_sha256 && strcasecmp(expect_sha256, res->sha256) != 0) {
        snprintf(errstr, errstr_size, "%s: sha256 mismatch: expected %s, got %s", url_in,
                 expect_sha256, res->sha256);
        unlink(tmp);
        free(tmp);
        return KF_ERR_INVALID_INPUT;
    }
    struct stat sb;
    res->bytes = (stat(tmp, &sb) == 0) ? (uint64_t)sb.st_size : 0;
    if (rename(tmp, dest) != 0) {
        snprintf(errstr, errstr_size, "%s: rename %s -> %s failed: %s", url_in, tmp, dest,
                 strerror(errno));
        unlink(tmp);
        free(tmp);
        return KF_ERR_IO;
    }
    free(tmp);
    return KF_OK;
}
