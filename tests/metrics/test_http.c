/* Unit tests for kf_http: off mode, parameter errors, port collisions,
 * status codes and content types (requests made with libcurl). */
#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h> /* after the headers it needs */

#include "kf_http.h"
#include "kf_obs.h"

typedef struct resp {
    long code;
    char ctype[128];
    char body[4096];
    size_t len;
} resp_t;

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    resp_t *r = ud;
    size_t k = size * n;
    size_t room = sizeof(r->body) - 1 - r->len;
    memcpy(r->body + r->len, p, k < room ? k : room);
    r->len += k < room ? k : room;
    r->body[r->len] = '\0';
    return k;
}

static resp_t request(int port, const char *method, const char *path) {
    resp_t r;
    memset(&r, 0, sizeof(r));
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.code);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    if (ct)
        snprintf(r.ctype, sizeof(r.ctype), "%s", ct);
    curl_easy_cleanup(c);
    return r;
}

static void test_off_and_errors(void **state) {
    (void)state;
    char err[256];
    kf_http_params_t p = kf_http_default_params();
    assert_int_equal(p.port, 0);
    assert_string_equal(p.bind_address, "0.0.0.0");
    kf_http_t *h = kf_http_new(&p, err, sizeof(err));
    assert_non_null(h);
    assert_int_equal(kf_http_port(h), 0);
    kf_http_free(h);
    kf_http_free(NULL);
    assert_int_equal(kf_http_port(NULL), 0);

    p.port = 70000;
    assert_null(kf_http_new(&p, err, sizeof(err)));
    assert_non_null(strstr(err, "70000"));
    p.port = KF_HTTP_PORT_ANY;
    p.bind_address = "localhost:x";
    assert_null(kf_http_new(&p, err, sizeof(err)));
    assert_non_null(strstr(err, "'localhost:x'"));

    /* a port already taken is an error naming it */
    p.bind_address = "127.0.0.1";
    kf_http_t *a = kf_http_new(&p, err, sizeof(err));
    assert_non_null(a);
    int port = kf_http_port(a);
    assert_true(port > 0);
    p.port = port;
    assert_null(kf_http_new(&p, err, sizeof(err)));
    char want[32];
    snprintf(want, sizeof(want), "port %d", port);
    assert_non_null(strstr(err, want));
    kf_http_free(a);
}

static int ready_flag(void *ctx, char *reason, size_t size) {
    int *r = ctx;
    if (!*r)
        snprintf(reason, size, "model mnist not loaded");
    return *r;
}

static void test_endpoints(void **state) {
    (void)state;
    char err[256];
    int ready = 0;
    kf_metrics_t *reg = kf_metrics_new();
    kf_metric_t *c = kf_metrics_counter(reg, "x_total", "X.", NULL, err, sizeof(err));
    kf_metric_inc(c, NULL, 3);
    kf_http_params_t p = kf_http_default_params();
    p.port = KF_HTTP_PORT_ANY;
    p.bind_address = "127.0.0.1";
    p.metrics = reg;
    p.ready = ready_flag;
    p.ready_ctx = &ready;
    kf_http_t *h = kf_http_new(&p, err, sizeof(err));
    assert_non_null(h);
    int port = kf_http_port(h);

    resp_t r = request(port, "GET", "/metrics");
    assert_int_equal(r.code, 200);
    assert_string_equal(r.ctype, KF_METRICS_CONTENT_TYPE);
    assert_string_equal(r.body, "# HELP x_total X.\n# TYPE x_total counter\nx_total 3\n");
    r = request(port, "HEAD", "/metrics");
    assert_int_equal(r.code, 200);
    assert_int_equal(r.len, 0);
    r = request(port, "GET", "/healthz");
    assert_int_equal(r.code, 200);
    assert_string_equal(r.body, "ok\n");
    r = request(port, "GET", "/readyz");
    assert_int_equal(r.code, 503);
    assert_string_equal(r.body, "not ready: model mnist not loaded\n");
    ready = 1;
    r = request(port, "GET", "/readyz");
    assert_int_equal(r.code, 200);
    r = request(port, "POST", "/metrics");
    assert_int_equal(r.code, 405);
    r = request(port, "GET", "/metrics/../etc");
    assert_int_equal(r.code, 404);
    r = request(port, "GET", "/");
    assert_int_equal(r.code, 404);
    kf_http_free(h);

    /* without a registry or callback: empty metrics, always ready */
    p.metrics = NULL;
    p.ready = NULL;
    h = kf_http_new(&p, err, sizeof(err));
    assert_non_null(h);
    r = request(kf_http_port(h), "GET", "/metrics");
    assert_int_equal(r.code, 200);
    assert_int_equal(r.len, 0);
    r = request(kf_http_port(h), "GET", "/readyz");
    assert_int_equal(r.code, 200);
    kf_http_free(h);
    kf_metrics_free(reg);
}

static void test_obs_from_config(void **state) {
    (void)state;
    char err[256];
    kf_config_t *cfg = kf_config_new();
    assert_non_null(cfg);
    kf_obs_params_t p = kf_obs_default_params();
    /* table defaults: off (two workers on a host must not collide), 0.0.0.0,
     * stats every 5 s */
    assert_int_equal(kf_obs_params_from_config(&p, cfg, err, sizeof(err)), KF_OK);
    assert_int_equal(p.port, 0);
    assert_string_equal(p.bind_address, "0.0.0.0");
    assert_int_equal(p.stats_interval_ms, 5000);
    assert_int_equal(kf_config_load_string(cfg,
                                           "metrics.port=0\nmetrics.bind=::1\n"
                                           "metrics.stats_interval_ms=250\n",
                                           "t.properties", err, sizeof(err)),
                     KF_OK);
    assert_int_equal(kf_obs_params_from_config(&p, cfg, err, sizeof(err)), KF_OK);
    assert_int_equal(p.port, 0);
    assert_string_equal(p.bind_address, "::1");
    /* port 0: metrics are counted, nothing listens */
    kf_obs_t *o = kf_obs_new(&p, err, sizeof(err));
    assert_non_null(o);
    assert_int_equal(kf_obs_port(o), 0);
    assert_int_equal(kf_obs_stats_interval_ms(o), 250);
    assert_non_null(kf_obs_metrics(o));
    kf_wmetrics_job(kf_obs_metrics(o), "m", "OK", 1, 1, 1);
    char *text = NULL;
    assert_int_equal(kf_metrics_render(kf_obs_registry(o), &text, NULL), KF_OK);
    assert_non_null(strstr(text, "kinfer_jobs_total{model=\"m\",status=\"OK\"} 1\n"));
    free(text);
    kf_obs_free(o);
    kf_obs_free(NULL);
    assert_null(kf_obs_metrics(NULL));
    /* a bad bind address fails and names the keys */
    p.port = KF_HTTP_PORT_ANY;
    p.bind_address = "not-an-ip";
    assert_null(kf_obs_new(&p, err, sizeof(err)));
    assert_non_null(strstr(err, "metrics.bind=not-an-ip"));
    /* a value out of range is refused by the table */
    assert_int_equal(
        kf_config_load_string(cfg, "metrics.port=70000\n", "t.properties", err, sizeof(err)),
        KF_ERR_CONFIG);
    /* the IPv6 loopback serves too (when the host has IPv6) */
    p.bind_address = "::1";
    o = kf_obs_new(&p, err, sizeof(err));
    if (o) {
        assert_true(kf_obs_port(o) > 0);
        kf_obs_free(o);
    }
    kf_config_free(cfg);
}

static kf_status_t accept_version(void *user, const char *model, const kf_repo_version_t *v,
                                  char *errstr, size_t errstr_size) {
    (void)user;
    (void)model;
    (void)errstr;
    (void)errstr_size;
    return v->version[0] == '1' ? KF_OK : KF_ERR_INVALID_INPUT;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The pollers' counters of a real file:// model repository appear in
 * kinfer_artifact_fetch_errors_total once watched. */
static void test_obs_watch_sources(void **state) {
    (void)state;
    char err[512], dir[512], path[600], props[1400];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/kf_obs_test_XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/m", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/m/1", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/m/LATEST", dir);
    write_file(path, "1\n");
    snprintf(path, sizeof(path), "%s/m/1/model.onnx", dir);
    write_file(path, "not really onnx");
    snprintf(props, sizeof(props),
             "model.m.source=file://%s\nmodel.m.poll_interval_ms=0\ncache.dir=%s/cache\n", dir,
             dir);
    kf_config_t *cfg = kf_config_new();
    assert_int_equal(kf_config_load_string(cfg, props, "t.properties", err, sizeof(err)), KF_OK);
    kf_model_sources_params_t sp = {0};
    sp.on_version = accept_version;
    kf_model_sources_t *src = kf_model_sources_new(cfg, &sp, err, sizeof(err));
    if (!src)
        fail_msg("model sources: %s", err);
    kf_obs_params_t p = kf_obs_default_params();
    kf_obs_t *o = kf_obs_new(&p, err, sizeof(err));
    assert_non_null(o);
    char *text = NULL;
    assert_int_equal(kf_metrics_render(kf_obs_registry(o), &text, NULL), KF_OK);
    assert_null(strstr(text, "kinfer_artifact_fetch_errors_total{"));
    free(text);
    kf_obs_watch_model_sources(o, src);
    assert_int_equal(kf_metrics_render(kf_obs_registry(o), &text, NULL), KF_OK);
    assert_non_null(
        strstr(text, "kinfer_artifact_fetch_errors_total{model=\"m\",reason=\"fetch\"} 0\n"));
    assert_non_null(
        strstr(text, "kinfer_artifact_fetch_errors_total{model=\"m\",reason=\"load\"} 0\n"));
    free(text);
    kf_obs_watch_model_sources(o, NULL);
    kf_model_sources_free(src);
    assert_int_equal(kf_metrics_render(kf_obs_registry(o), &text, NULL), KF_OK); /* no UAF */
    free(text);
    kf_obs_free(o);
    kf_config_free(cfg);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_and_errors),
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_obs_from_config),
        cmocka_unit_test(test_obs_watch_sources),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
