/* Asynchronous runs (ke_plan_submit / ke_plan_wait) and the device-side
 * plan paths, checked on the host:
 *  - on the CPU backend: FIFO order, row counts, the queue limit and the
 *    misuse errors;
 *  - on the fake "device" backend of tests/common/ke_fake_device.h (host
 *    memory, device_memory = 1) whose two queues really defer their
 *    copies: a copy runs only when something waits for it (an event wait
 *    on the other queue, an event sync, a sync) or, on the compute queue,
 *    before the next node runs. A plan
 *    that forgot an ordering step (input copy not awaited by compute,
 *    outputs read before their copies ran, staging reused too early) reads
 *    stale bytes and the comparison with the CPU plan fails;
 *  - the same fake without async hooks (synchronous upload/download path);
 *  - precision refused on the CPU, device memory unsupported on the CPU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "ke_backend.h"
#include "ke_fake_device.h"

/* ---- helpers ------------------------------------------------------------ */

static ke_model_t *load(const char *name) {
    const char *root = getenv("KINFER_SOURCE_DIR");
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/models/%s.onnx", root ? root : KINFER_SOURCE_DIR, name);
    ke_model_t *m = ke_model_load_file(path, NULL, err, sizeof err);
    if (!m)
        fail_msg("%s: %s", path, err);
    return m;
}

#define NB 4 /* batches per scenario */
typedef struct {
    ke_model_t *m;
    int ni, no, max_batch;
    void *in[NB][8];
    void *want[NB][8];
    size_t out_bytes[NB][8];
    int rows[NB];
} case_t;

static void fill_inputs(case_t *c, int b, unsigned seed) {
    for (int i = 0; i < c->ni; i++) {
        ke_io_info_t io;
        assert_int_equal(ke_model_input(c->m, i, &io), KE_OK);
        size_t bytes = io.row_bytes * (io.batch_axis >= 0 ? (size_t)c->rows[b] : 1);
        c->in[b][i] = calloc(1, bytes + 8);
        assert_non_null(c->in[b][i]);
        for (size_t k = 0; k < bytes / 4 && io.dtype == KE_DT_F32; k++) {
            seed = seed * 1664525u + 1013904223u;
            ((float *)c->in[b][i])[k] = (float)(seed >> 8) / (float)(1u << 24) - 0.5f;
        }
        if (io.dtype == KE_DT_I64)
            for (size_t k = 0; k < bytes / 8; k++) {
                seed = seed * 1664525u + 1013904223u;
                ((int64_t *)c->in[b][i])[k] = (seed >> 8) & 1;
            }
    }
}

/* Reference outputs from a synchronous CPU plan. */
static void make_case(case_t *c, const char *model, const int *rows) {
    memset(c, 0, sizeof *c);
    c->m = load(model);
    c->ni = ke_model_num_inputs(c->m);
    c->no = ke_model_num_outputs(c->m);
    assert_true(c->ni <= 8 && c->no <= 8);
    c->max_batch = 8;
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = c->max_batch;
    pp.n_threads = 1;
    char err[512];
    ke_plan_t *cpu = ke_plan_new(c->m, &pp, err, sizeof err);
    if (!cpu)
        fail_msg("%s", err);
    for (int b = 0; b < NB; b++) {
        c->rows[b] = ke_model_has_batch(c->m) ? rows[b] : 1;
        fill_inputs(c, b, 1234u + 77u * (unsigned)b);
        for (int o = 0; o < c->no; o++) {
            ke_tensor_t d;
            assert_int_equal(ke_plan_output_desc(cpu, o, c->rows[b], &d), KE_OK);
            c->out_bytes[b][o] = ke_tensor_nbytes(&d);
            c->want[b][o] = calloc(1, c->out_bytes[b][o] + 8);
        }
        if (ke_plan_run(cpu, c->rows[b], (const void *const *)c->in[b], c->want[b], err,
                        sizeof err) != KE_OK)
            fail_msg("cpu run: %s", err);
    }
    ke_plan_free(cpu);
}

static void free_case(case_t *c) {
    for (int b = 0; b < NB; b++)
        for (int i = 0; i < 8; i++) {
            free(c->in[b][i]);
            free(c->want[b][i]);
        }
    ke_model_free(c->m);
}

static void **new_outs(case_t *c, int b) {
    void **o = calloc(8, sizeof *o);
    for (int i = 0; i < c->no; i++) {
        o[i] = malloc(c->out_bytes[b][i] + 8);
        memset(o[i], 0xAB, c->out_bytes[b][i] + 8); /* poison */
    }
    return o;
}

static void check_outs(case_t *c, int b, void **got) {
    for (int i = 0; i < c->no; i++) {
        if (memcmp(got[i], c->want[b][i], c->out_bytes[b][i]) != 0)
            fail_msg("batch %d (rows %d) output %d differs from the CPU plan", b, c->rows[b], i);
        free(got[i]);
    }
    free(got);
}

/* The pipelined pattern: keep one batch in flight. Also checks the inputs
 * may be reused right after submit (they are scribbled over). */
static void pipeline(ke_plan_t *p, case_t *c) {
    char err[512];
    int rows = 0;
    for (int b = 0; b < NB; b++) {
        if (ke_plan_submit(p, c->rows[b], (const void *const *)c->in[b], err, sizeof err) != KE_OK)
            fail_msg("submit %d: %s", b, err);
        assert_int_equal(ke_plan_pending(p), b == 0 ? 1 : 2);
        if (b == 0)
            continue;
        void **o = new_outs(c, b - 1);
        if (ke_plan_wait(p, o, &rows, err, sizeof err) != KE_OK)
            fail_msg("wait: %s", err);
        assert_int_equal(rows, c->rows[b - 1]);
        check_outs(c, b - 1, o);
    }
    void **o = new_outs(c, NB - 1);
    assert_int_equal(ke_plan_wait(p, o, &rows, err, sizeof err), KE_OK);
    assert_int_equal(rows, c->rows[NB - 1]);
    check_outs(c, NB - 1, o);
    assert_int_equal(ke_plan_pending(p), 0);
    /* and the synchronous API on the same plan afterwards */
    for (int b = 0; b < NB; b++) {
        void **o2 = new_outs(c, b);
        if (ke_plan_run(p, c->rows[b], (const void *const *)c->in[b], o2, err, sizeof err) != KE_OK)
            fail_msg("run %d: %s", b, err);
        check_outs(c, b, o2);
    }
}

static const int k_rows[NB] = {3, 8, 1, 5};

static void run_models(int expect_async) {
    const char *models[] = {"mnist_mlp", "cnn", "bert_tiny", "identity16", "binary_classifier"};
    for (size_t k = 0; k < sizeof models / sizeof *models; k++) {
        case_t c;
        make_case(&c, models[k], k_rows);
        fake_dev_stats_t fst;
        memset(&fst, 0, sizeof fst);
        ke_plan_params_t pp = ke_plan_default_params();
        pp.max_batch = c.max_batch;
        pp.n_threads = 1;
        pp.backend = expect_async ? fake_dev_new(&fst) : fake_dev_new_sync(&fst);
        assert_non_null(pp.backend);
        char err[512];
        ke_plan_t *p = ke_plan_new(c.m, &pp, err, sizeof err);
        if (!p)
            fail_msg("%s: %s", models[k], err);
        pipeline(p, &c);
        assert_false(fst.overflow);
        assert_true(fst.runs > 0);
        if (expect_async) {
            assert_true(fst.async_copies_q[KE_Q_COPY] >= 2 * NB);    /* inputs on the copy queue */
            assert_true(fst.async_copies_q[KE_Q_COMPUTE] >= 2 * NB); /* outputs on compute */
        } else {
            assert_int_equal(fst.async_copies_q[KE_Q_COPY] + fst.async_copies_q[KE_Q_COMPUTE], 0);
        }
        size_t fr = 0, tot = 0;
        assert_int_equal(ke_plan_device_memory(p, &fr, &tot),
                         expect_async ? KE_OK : KE_ERR_UNSUPPORTED);
        ke_plan_free(p);
        free_case(&c);
    }
}

static void test_fake_device_async(void **st) {
    (void)st;
    run_models(1);
}

static void test_fake_device_sync(void **st) {
    (void)st;
    run_models(0);
}

static void test_cpu_async(void **st) {
    (void)st;
    case_t c;
    make_case(&c, "mnist_mlp", k_rows);
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = c.max_batch;
    pp.n_threads = 1;
    char err[512];
    ke_plan_t *p = ke_plan_new(c.m, &pp, err, sizeof err);
    assert_non_null(p);
    pipeline(p, &c);
    /* misuse: wait with nothing queued, a third submit, run while queued */
    void **o = new_outs(&c, 1); /* batch 1 has max_batch rows: fits any */
    err[0] = 0;
    assert_int_equal(ke_plan_wait(p, o, NULL, err, sizeof err), KE_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "no batch queued"));
    for (int b = 0; b < KE_PLAN_SLOTS; b++)
        assert_int_equal(
            ke_plan_submit(p, c.rows[b], (const void *const *)c.in[b], err, sizeof err), KE_OK);
    assert_int_equal(ke_plan_submit(p, c.rows[0], (const void *const *)c.in[0], err, sizeof err),
                     KE_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "already queued"));
    assert_int_equal(ke_plan_run(p, c.rows[0], (const void *const *)c.in[0], o, err, sizeof err),
                     KE_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "not waited"));
    /* bad row counts are refused without queueing */
    assert_int_equal(ke_plan_wait(p, o, NULL, err, sizeof err), KE_OK);
    assert_int_equal(ke_plan_submit(p, 0, (const void *const *)c.in[0], err, sizeof err),
                     KE_ERR_INVALID_ARG);
    assert_int_equal(
        ke_plan_submit(p, c.max_batch + 1, (const void *const *)c.in[0], err, sizeof err),
        KE_ERR_INVALID_ARG);
    assert_int_equal(ke_plan_pending(p), 1);
    /* a NULL output buffer does not consume the batch */
    void *nulls[8] = {0};
    assert_int_equal(ke_plan_wait(p, nulls, NULL, err, sizeof err), KE_ERR_INVALID_ARG);
    assert_int_equal(ke_plan_pending(p), 1);
    int rows = 0;
    assert_int_equal(ke_plan_wait(p, o, &rows, err, sizeof err), KE_OK);
    assert_int_equal(rows, c.rows[1]);
    check_outs(&c, 1, o);
    /* the CPU has no device memory figures */
    size_t fr, tot;
    assert_int_equal(ke_plan_device_memory(p, &fr, &tot), KE_ERR_UNSUPPORTED);
    char name[64];
    ke_plan_device_name(p, name, sizeof name);
    assert_string_equal(name, "cpu");
    assert_int_equal(ke_plan_precision(p), KE_PREC_FP32);
    ke_plan_free(p);
    free_case(&c);
}

static void test_precision(void **st) {
    (void)st;
    ke_precision_t pr;
    const char *names[] = {"fp32", "tf32", "fp16", "bf16"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ke_precision_parse(names[i], &pr), KE_OK);
        assert_int_equal((int)pr, i);
        assert_string_equal(ke_precision_name(pr), names[i]);
    }
    assert_int_equal(ke_precision_parse("fp8", &pr), KE_ERR_INVALID_ARG);
    assert_int_equal(ke_precision_parse(NULL, &pr), KE_ERR_INVALID_ARG);
    ke_model_t *m = load("mnist_mlp");
    ke_plan_params_t pp = ke_plan_default_params();
    char err[512] = "";
    for (int i = 1; i < 4; i++) {
        pp.precision = (ke_precision_t)i;
        pp.device = "cpu";
        assert_null(ke_plan_new(m, &pp, err, sizeof err));
        assert_non_null(strstr(err, names[i]));
        assert_non_null(strstr(err, "fp32 only"));
        if (ke_backend_cuda_devices() == 0) { /* auto resolves to the CPU here */
            pp.device = "auto";
            err[0] = 0;
            assert_null(ke_plan_new(m, &pp, err, sizeof err));
            assert_non_null(strstr(err, "fp32 only"));
        }
    }
    double sec = 0;
    assert_int_equal(ke_bench_gemm("cpu", KE_PREC_FP16, 8, 8, 8, 1, &sec, NULL, 0, err, sizeof err),
                     KE_ERR_UNSUPPORTED);
    assert_int_equal(ke_bench_gemm("tpu", KE_PREC_FP32, 8, 8, 8, 1, &sec, NULL, 0, err, sizeof err),
                     KE_ERR_INVALID_ARG);
    assert_int_equal(ke_bench_gemm("cpu", KE_PREC_FP32, 0, 8, 8, 1, &sec, NULL, 0, err, sizeof err),
                     KE_ERR_INVALID_ARG);
    char name[32];
    assert_int_equal(
        ke_bench_gemm("cpu", KE_PREC_FP32, 16, 8, 4, 2, &sec, name, sizeof name, err, sizeof err),
        KE_OK);
    assert_true(sec > 0);
    assert_string_equal(name, "cpu");
    ke_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_async),
        cmocka_unit_test(test_fake_device_async),
        cmocka_unit_test(test_fake_device_sync),
        cmocka_unit_test(test_precision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
