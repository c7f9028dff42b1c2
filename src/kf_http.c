#include "kf_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct kf_http {
    kf_http_params_t p;
    struct MHD_Daemon *d;
    int port;
};

static void set_err(char *errstr, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *errstr, size_t size, const char *fmt, ...) {
    if (!errstr || size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, size, fmt, ap);
    va_end(ap);
}

kf_http_params_t kf_http_default_params(void) {
    kf_http_params_t p = {0, "0.0.0.0", NULL, NULL, NULL, NULL};
    return p;
}

/* Queues a response whose body is `body` (len bytes). When `owned`, body
 * was malloc'd and libmicrohttpd frees it. */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, const char *ctype,
                             char *body, size_t len, int owned) {
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
    if (!r) {
        if (owned)
            free(body);
        return MHD_NO;
    }
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int code, const char *text) {
    return reply(c, code, "text/plain; charset=utf-8", (char *)text, strlen(text), 0);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req_cls) {
    (void)version;
    (void)upload;
    kf_http_t *h = cls;
    /* First call per request: headers only. Mark it and wait for the body
     * (none expected); answering then is simplest for GET/HEAD. */
    if (*req_cls == NULL) {
        *req_cls = h;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        *upload_size = 0; /* discard any request body */
        return MHD_YES;
    }
    int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    int is_head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    int known =
        strcmp(url, "/metrics") == 0 || strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0;
    if (!known)
        return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics, /healthz, /readyz\n");
    if (!is_get && !is_head)
        return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");

    if (strcmp(url, "/healthz") == 0)
        return reply_text(c, MHD_HTTP_OK, "ok\n");

    if (strcmp(url, "/readyz") == 0) {
        char reason[256] = "not ready";
        int ready = h->p.ready ? h->p.ready(h->p.ready_ctx, reason, sizeof(reason)) : 1;
        if (ready)
            return reply_text(c, MHD_HTTP_OK, "ready\n");
        reason[sizeof(reason) - 1] = '\0';
        char msg[300];
        snprintf(msg, sizeof(msg), "not ready: %s\n", reason);
        return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
    }

    /* /metrics */
    char *body = NULL;
    size_t len = 0;
    if (h->p.metrics) {
        kf_status_t st = kf_metrics_render(h->p.metrics, &body, &len);
        if (st != KF_OK) {
            KF_ERROR(h->p.log, "http: rendering /metrics failed: %s", kf_status_str(st));
            return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics rendering failed\n");
        }
    } else {
        body = calloc(1, 1);
        if (!body)
            return MHD_NO;
    }
    return reply(c, MHD_HTTP_OK, KF_METRICS_CONTENT_TYPE, body, len, 1);
}

kf_http_t *kf_http_new(const kf_http_params_t *params, char *errstr, size_t errstr_size) {
    kf_http_t *h = calloc(1, sizeof(*h));
    if (!h) {
        set_err(errstr, errstr_size, "http: out of memory");
        return NULL;
    }
    h->p = params ? *params : kf_http_default_params();
    if (h->p.port == 0)
        return h; /* off */
    if (h->p.port < KF_HTTP_PORT_ANY || h->p.port > 65535) {
        set_err(errstr, errstr_size, "http: metrics port %d out of range (0 = off, 1..65535)",
                h->p.port);
        free(h);
        return NULL;
    }
    uint16_t port = h->p.port == KF_HTTP_PORT_ANY ? 0 : (uint16_t)h->p.port;
    const char *addr = h->p.bind_address && *h->p.bind_address ? h->p.bind_address : "0.0.0.0";

    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct sockaddr *sa;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (inet_pton(AF_INET, addr, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        sa = (struct sockaddr *)&sin;
    } else if (inet_pton(AF_INET6, addr, &sin6.sin6_addr) == 1) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(port);
        sa = (struct sockaddr *)&sin6;
        flags |= MHD_USE_IPv6;
    } else {
        set_err(errstr, errstr_size, "http: bind address '%s' is not a numeric IPv4/IPv6 address",
                addr);
        free(h);
        return NULL;
    }

    h->d = MHD_start_daemon(flags, port, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, sa,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64, MHD_OPTION_END);
    if (!h->d) {
        set_err(errstr, errstr_size, "http: cannot listen on %s port %u (in use or not allowed?)",
                addr, (unsigned)port);
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = (info && info->port) ? (int)info->port : (int)port;
    KF_INFO(h->p.log, "http: serving /metrics /healthz /readyz on %s:%d", addr, h->port);
    return h;
}

void kf_http_free(kf_http_t *h) {
    if (!h)
        return;
    if (h->d)
        MHD_stop_daemon(h->d);
    free(h);
}

int kf_http_port(const kf_http_t *h) {
    return h ? h->port : 0;
}
