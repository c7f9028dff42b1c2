/* The four test models end to end: the CUDA backend against the CPU engine
 * on the committed reference inputs (batch 1, 7, 64), FP32 tolerance rtol
 * 1e-4, atol 1e-5 (plus the onnxruntime outputs at the conformance
 * tolerance), through ke_plan_run and through the double-buffered
 * ke_plan_submit / ke_plan_wait. Reduced precision (Gemm/MatMul/Conv only)
 * against the same CPU FP32 outputs, whole-model tolerances (stated, first
 * run on a GPU will tell whether they hold): TF32 rtol/atol 1e-2, FP16
 * 3e-2, BF16 1e-1. Exits 77 (SKIP) without a GPU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "ke_backend.h"
#include "kf_npy.h"

static int compare(const char *what, const float *got, const float *want, int64_t n, double rtol,
                   double atol) {
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= atol + rtol * fabs(want[i]))) {
            fprintf(stderr, "FAIL %s: element %lld cuda %.7g cpu %.7g\n", what, (long long)i,
                    got[i], want[i]);
            return 1;
        }
    }
    return 0;
}

typedef struct {
    ke_precision_t prec;
    double rtol, atol;
} prec_case_t;

static const prec_case_t k_precs[] = {
    {KE_PREC_FP32, 1e-4, 1e-5},
    {KE_PREC_TF32, 1e-2, 1e-2},
    {KE_PREC_FP16, 3e-2, 3e-2},
    {KE_PREC_BF16, 1e-1, 1e-1},
};

static int run_model(const char *root, const char *name, int batch, const prec_case_t *pc) {
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/models/%s.onnx", root, name);
    ke_model_t *m = ke_model_load_file(path, NULL, err, sizeof err);
    if (!m) {
        fprintf(stderr, "FAIL load %s: %s\n", path, err);
        return 1;
    }
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = 64;
    ke_plan_t *cpu = ke_plan_new(m, &pp, err, sizeof err);
    pp.device = "cuda";
    pp.precision = pc->prec;
    ke_plan_t *gpu = cpu ? ke_plan_new(m, &pp, err, sizeof err) : NULL;
    if (!cpu || !gpu) {
        fprintf(stderr, "FAIL plan %s: %s\n", name, err);
        ke_plan_free(cpu);
        ke_model_free(m);
        return 1;
    }
    int ni = ke_model_num_inputs(m), no = ke_model_num_outputs(m), failures = 0;
    kf_npy_t *ins[8] = {0};
    const void *inp[8];
    void *out_cpu[8] = {0}, *out_gpu[8] = {0}, *out_async[8] = {0};
    for (int i = 0; i < ni && i < 8; i++) {
        ke_io_info_t info;
        ke_model_input(m, i, &info);
        snprintf(path, sizeof path, "%s/models/ref/%s/b%d/inputs/%s.npy", root, name, batch,
                 info.name);
        if (kf_npy_load_file(path, 0, &ins[i], err, sizeof err) != KF_OK) {
            fprintf(stderr, "FAIL %s\n", err);
            failures++;
            goto done;
        }
        inp[i] = ins[i]->data;
    }
    for (int i = 0; i < no && i < 8; i++) {
        ke_tensor_t d;
        ke_plan_output_desc(cpu, i, batch, &d);
        out_cpu[i] = calloc(1, ke_tensor_nbytes(&d) + 1);
        out_gpu[i] = calloc(1, ke_tensor_nbytes(&d) + 1);
    }
    if (ke_plan_run(cpu, batch, inp, out_cpu, err, sizeof err) != KE_OK ||
        ke_plan_run(gpu, batch, inp, out_gpu, err, sizeof err) != KE_OK) {
        fprintf(stderr, "FAIL run %s b%d %s: %s\n", name, batch, ke_precision_name(pc->prec), err);
        failures++;
        goto done;
    }
    /* double buffered: two batches in flight must give the same bytes as
     * the synchronous run (same kernels, same inputs) */
    for (int i = 0; i < no; i++) {
        ke_tensor_t d;
        ke_plan_output_desc(cpu, i, batch, &d);
        out_async[i] = calloc(1, ke_tensor_nbytes(&d) + 1);
    }
    int rows = 0;
    if (ke_plan_submit(gpu, batch, inp, err, sizeof err) != KE_OK ||
        ke_plan_submit(gpu, batch, inp, err, sizeof err) != KE_OK ||
        ke_plan_wait(gpu, out_async, &rows, err, sizeof err) != KE_OK ||
        ke_plan_wait(gpu, out_async, &rows, err, sizeof err) != KE_OK || rows != batch) {
        fprintf(stderr, "FAIL async %s b%d: %s\n", name, batch, err);
        failures++;
        goto done;
    }
    for (int i = 0; i < no; i++) {
        ke_tensor_t d;
        ke_plan_output_desc(cpu, i, batch, &d);
        if (memcmp(out_async[i], out_gpu[i], ke_tensor_nbytes(&d)) != 0) {
            fprintf(stderr, "FAIL async %s b%d output %d differs from ke_plan_run\n", name, batch,
                    i);
            failures++;
        }
    }
    for (int i = 0; i < no; i++) {
        ke_tensor_t d;
        ke_io_info_t info;
        ke_plan_output_desc(cpu, i, batch, &d);
        ke_model_output(m, i, &info);
        char what[256];
        snprintf(what, sizeof what, "%s b%d %s %s", name, batch, info.name,
                 ke_precision_name(pc->prec));
        if (d.dtype != KE_DT_F32) { /* e.g. ArgMax labels: exact in FP32 only */
            if (pc->prec == KE_PREC_FP32 &&
                memcmp(out_gpu[i], out_cpu[i], ke_tensor_nbytes(&d)) != 0) {
                fprintf(stderr, "FAIL %s: differs\n", what);
                failures++;
            }
            continue;
        }
        failures += compare(what, out_gpu[i], out_cpu[i], ke_tensor_numel(&d), pc->rtol, pc->atol);
        if (pc->prec != KE_PREC_FP32)
            continue;
        snprintf(path, sizeof path, "%s/models/ref/%s/b%d/outputs/%s.npy", root, name, batch,
                 info.name);
        kf_npy_t *ref = NULL;
        if (kf_npy_load_file(path, 0, &ref, err, sizeof err) == KF_OK) {
            strncat(what, " vs onnxruntime", sizeof what - strlen(what) - 1);
            failures += compare(what, out_gpu[i], ref->data, ke_tensor_numel(&d), 1e-3, 1e-4);
            kf_npy_free(ref);
        }
    }
done:
    for (int i = 0; i < 8; i++) {
        kf_npy_free(ins[i]);
        free(out_cpu[i]);
        free(out_gpu[i]);
        free(out_async[i]);
    }
    ke_plan_free(gpu);
    ke_plan_free(cpu);
    ke_model_free(m);
    if (!failures)
        printf("ok %s batch %d %s\n", name, batch, ke_precision_name(pc->prec));
    return failures;
}

/* An out-of-range token id fails the batch on the GPU as on the CPU (the
 * embedding Gather reads its device error flag back), and the plan still
 * runs good batches afterwards. */
static int gather_out_of_range(const char *root) {
    char path[4096], err[512] = "";
    snprintf(path, sizeof path, "%s/models/bert_tiny.onnx", root);
    ke_model_t *m = ke_model_load_file(path, NULL, err, sizeof err);
    if (!m) {
        fprintf(stderr, "FAIL load %s: %s\n", path, err);
        return 1;
    }
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = 4;
    ke_plan_t *plans[2] = {ke_plan_new(m, &pp, err, sizeof err), NULL};
    pp.device = "cuda";
    plans[1] = plans[0] ? ke_plan_new(m, &pp, err, sizeof err) : NULL;
    int failures = 0, ni = ke_model_num_inputs(m), no = ke_model_num_outputs(m);
    void *in[8] = {0}, *out[8] = {0};
    for (int i = 0; i < ni && i < 8; i++) {
        ke_io_info_t io;
        ke_model_input(m, i, &io);
        in[i] = calloc(4, io.row_bytes + 8);
        if (io.dtype == KE_DT_I64 && strcmp(io.name, "attention_mask") == 0)
            for (size_t k = 0; k < 4 * io.row_bytes / 8; k++)
                ((int64_t *)in[i])[k] = 1;
    }
    for (int i = 0; i < no && i < 8; i++) {
        ke_tensor_t d;
        ke_plan_output_desc(plans[0] ? plans[0] : NULL, i, 4, &d);
        out[i] = calloc(1, ke_tensor_nbytes(&d) + 8);
    }
    int ids = ke_model_find_input(m, "input_ids");
    if (!plans[0] || !plans[1] || ids < 0) {
        fprintf(stderr, "FAIL gather test setup: %s\n", err);
        failures++;
        goto done;
    }
    for (int k = 0; k < 2; k++) {
        ((int64_t *)in[ids])[3] = (int64_t)1 << 40;
        err[0] = 0;
        ke_status_t st = ke_plan_run(plans[k], 4, (const void *const *)in, out, err, sizeof err);
        if (st != KE_ERR_INVALID_ARG || !strstr(err, "out of range")) {
            fprintf(stderr, "FAIL %s: out-of-range token id gave status %d (%s)\n",
                    k ? "cuda" : "cpu", (int)st, err);
            failures++;
        }
        ((int64_t *)in[ids])[3] = 1;
        if (ke_plan_run(plans[k], 4, (const void *const *)in, out, err, sizeof err) != KE_OK) {
            fprintf(stderr, "FAIL %s: good batch after the bad one: %s\n", k ? "cuda" : "cpu", err);
            failures++;
        }
    }
done:
    for (int i = 0; i < 8; i++) {
        free(in[i]);
        free(out[i]);
    }
    ke_plan_free(plans[1]);
    ke_plan_free(plans[0]);
    ke_model_free(m);
    if (!failures)
        printf("ok gather out of range (cpu and cuda)\n");
    return failures;
}

int main(void) {
    if (ke_backend_cuda_devices() == 0) {
        printf("no CUDA device: SKIP\n");
        return 77;
    }
    const char *root = getenv("KINFER_SOURCE_DIR");
    if (!root)
        root = KINFER_SOURCE_DIR;
    const char *models[] = {"mnist_mlp", "cnn", "binary_classifier", "bert_tiny"};
    const int batches[] = {1, 7, 64};
    int failures = 0, cases = 0;
    for (size_t pi = 0; pi < sizeof k_precs / sizeof k_precs[0]; pi++)
        for (size_t i = 0; i < 4; i++)
            for (size_t b = 0; b < 3; b++, cases++)
                failures += run_model(root, models[i], batches[b], &k_precs[pi]) != 0;
    failures += gather_out_of_range(root) != 0;
    cases++;
    printf("%d passed, %d failed\n", cases - failures, failures);
    return failures ? 1 : 0;
}
