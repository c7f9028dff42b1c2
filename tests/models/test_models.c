/* Model conformance: our engine against onnxruntime on the committed models.
 *
 * For each model in models/ it loads the .onnx with the engine, runs the
 * reference inputs of models/ref/<model>/b<B>/inputs/ at B = 1, 7, 64 on one
 * plan (max batch 64), and compares every output with onnxruntime's
 * (models/ref/<model>/b<B>/outputs/, made by bench/make_refs.js):
 * |ours - ort| <= atol + rtol * |ort| with rtol 1e-3, atol 1e-4. Then it
 * scores the MNIST MLP and CNN on the committed test slice (pixels / 255)
 * and checks that the number of correct digits equals onnxruntime's
 * (models/ref/onnxruntime_accuracy.json).
 *
 *   test_models [--no-fuse] [--no-cpu-fusions] [--threads N]
 *
 * Finds the sources through KINFER_SOURCE_DIR (default "."). Prints one line
 * per case and "N passed, M failed"; exit 1 on any failure. Exit 77 (SKIP,
 * never a pass) only while the op registry is the engine's empty
 * placeholder (no kernel at all); once any kernel exists, a model that
 * cannot load or run is a failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "refnpy.h"

#define RTOL 1e-3
#define ATOL 1e-4
#define MAX_BATCH 64
#define MAX_IO 8

typedef struct ctx {
    const char *src;
    ke_load_params_t load;
    ke_plan_params_t plan;
    int passed, failed;
} ctx_t;

static const int k_batches[] = {1, 7, 64};

/* Compares one output; prints a line; returns 0 when it matches. */
static int compare(const char *model, int b, const char *name, const ke_tensor_t *ours,
                   const refnpy_t *ref) {
    if (ref->dtype != ours->dtype || ref->rank != ours->rank) {
        printf("FAIL %s b%d %s: dtype/rank %s/%d, onnxruntime %s/%d\n", model, b, name,
               ke_dtype_name(ours->dtype), ours->rank, ke_dtype_name(ref->dtype), ref->rank);
        return -1;
    }
    for (int d = 0; d < ref->rank; d++) {
        if (ref->shape[d] != ours->shape[d]) {
            printf("FAIL %s b%d %s: dim %d is %lld, onnxruntime %lld\n", model, b, name, d,
                   (long long)ours->shape[d], (long long)ref->shape[d]);
            return -1;
        }
    }
    size_t bad = 0, n = ref->numel, worst = 0;
    double max_diff = 0.0;
    if (ref->dtype == KE_DT_F32) {
        const float *o = ours->data, *r = ref->data;
        for (size_t i = 0; i < n; i++) {
            double diff = fabs((double)o[i] - (double)r[i]);
            if (!(diff <= ATOL + RTOL * fabs((double)r[i]))) { /* NaN fails too */
                if (!bad)
                    worst = i;
                bad++;
            }
            if (!(diff <= max_diff))
                max_diff = diff;
        }
    } else {
        bad = memcmp(ours->data, ref->data, n * ke_dtype_size(ref->dtype)) != 0;
    }
    if (bad) {
        const float *o = ours->data, *r = ref->data;
        printf("FAIL %s b%d %s: %zu of %zu values outside rtol %g atol %g (max |diff| %.3g; "
               "first at [%zu]: ours %.7g, onnxruntime %.7g)\n",
               model, b, name, bad, n, RTOL, ATOL, max_diff, worst,
               ref->dtype == KE_DT_F32 ? (double)o[worst] : 0.0,
               ref->dtype == KE_DT_F32 ? (double)r[worst] : 0.0);
        return -1;
    }
    printf("ok   %s b%d %s: %zu values, max |diff| %.3g\n", model, b, name, n, max_diff);
    return 0;
}

/* One batch of one model: read inputs, run, compare every output. */
static int run_case(ctx_t *c, const ke_model_t *m, ke_plan_t *p, const char *model, int b) {
    char path[4096], err[512];
    int n_in = ke_model_num_inputs(m), n_out = ke_model_num_outputs(m), rc = -1;
    refnpy_t in[MAX_IO], ref;
    ke_tensor_t desc[MAX_IO];
    const void *in_ptr[MAX_IO];
    void *out_ptr[MAX_IO];
    memset(in, 0, sizeof in);
    memset(out_ptr, 0, sizeof out_ptr);
    if (n_in < 1 || n_in > MAX_IO || n_out < 1 || n_out > MAX_IO) {
        printf("FAIL %s: %d inputs, %d outputs\n", model, n_in, n_out);
        return -1;
    }
    for (int i = 0; i < n_in; i++) {
        ke_io_info_t io;
        if (ke_model_input(m, i, &io) != KE_OK) {
            printf("FAIL %s: input %d: no info\n", model, i);
            goto out;
        }
        snprintf(path, sizeof path, "%s/models/ref/%s/b%d/inputs/%s.npy", c->src, model, b,
                 io.name);
        if (refnpy_read(path, &in[i], err, sizeof err)) {
            printf("FAIL %s b%d: %s\n", model, b, err);
            goto out;
        }
        if (in[i].dtype != io.dtype ||
            in[i].numel * ke_dtype_size(io.dtype) != io.row_bytes * (size_t)b) {
            printf("FAIL %s b%d: input '%s': file is %s with %zu elements, model wants %s, %zu "
                   "bytes per row\n",
                   model, b, io.name, ke_dtype_name(in[i].dtype), in[i].numel,
                   ke_dtype_name(io.dtype), io.row_bytes);
            goto out;
        }
        in_ptr[i] = in[i].data;
    }
    for (int i = 0; i < n_out; i++) {
        if (ke_plan_output_desc(p, i, b, &desc[i]) != KE_OK ||
            !(out_ptr[i] = calloc(1, ke_tensor_nbytes(&desc[i]) + 1))) {
            printf("FAIL %s b%d: output %d: no descriptor or no memory\n", model, b, i);
            goto out;
        }
        desc[i].data = out_ptr[i];
    }
    ke_status_t st = ke_plan_run(p, b, in_ptr, (void *const *)out_ptr, err, sizeof err);
    if (st != KE_OK) {
        printf("FAIL %s b%d: run: %s: %s\n", model, b, ke_status_str(st), err);
        goto out;
    }
    rc = 0;
    for (int i = 0; i < n_out; i++) {
        ke_io_info_t io;
        if (ke_model_output(m, i, &io) != KE_OK) {
            rc = -1;
            continue;
        }
        snprintf(path, sizeof path, "%s/models/ref/%s/b%d/outputs/%s.npy", c->src, model, b,
                 io.name);
        if (refnpy_read(path, &ref, err, sizeof err)) {
            printf("FAIL %s b%d: %s\n", model, b, err);
            rc = -1;
            continue;
        }
        if (compare(model, b, io.name, &desc[i], &ref))
            rc = -1;
        refnpy_free(&ref);
    }
out:
    for (int i = 0; i < MAX_IO; i++) {
        refnpy_free(&in[i]);
        free(out_ptr[i]);
    }
    return rc;
}

static void check_model(ctx_t *c, const char *model) {
    char path[4096], err[512];
    int n_cases = (int)(sizeof k_batches / sizeof k_batches[0]);
    snprintf(path, sizeof path, "%s/models/%s.onnx", c->src, model);
    ke_model_t *m = ke_model_load_file(path, &c->load, err, sizeof err);
    ke_plan_t *p = m ? ke_plan_new(m, &c->plan, err, sizeof err) : NULL;
    if (!p) {
        printf("FAIL %s: %s: %s\n", model, m ? "plan" : "load", err);
        c->failed += n_cases;
    } else {
        for (int k = 0; k < n_cases; k++) {
            if (run_case(c, m, p, model, k_batches[k]))
                c->failed++;
            else
                c->passed++;
        }
    }
    ke_plan_free(p);
    ke_model_free(m);
}

/* onnxruntime's count of correct digits for model, from the JSON. */
static long ort_correct(const char *src, const char *model, char *err, size_t errsz) {
    char path[4096], key[64], buf[4096];
    snprintf(path, sizeof path, "%s/models/ref/onnxruntime_accuracy.json", src);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errsz, "%.300s: cannot open", path);
        return -1;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = 0;
    snprintf(key, sizeof key, "\"%s\"", model);
    const char *s = strstr(buf, key);
    s = s ? strstr(s, "\"correct\":") : NULL;
    if (!s) {
        snprintf(err, errsz, "%.300s: no %.40s.correct", path, model);
        return -1;
    }
    return strtol(s + strlen("\"correct\":"), NULL, 10);
}

/* Runs the test slice through model in batches of MAX_BATCH and compares
 * the number of correct argmax predictions with onnxruntime's. */
static void check_accuracy(ctx_t *c, const char *model) {
    char path[4096], err[512];
    refnpy_t img = {0}, lab = {0};
    ke_model_t *m = NULL;
    ke_plan_t *p = NULL;
    float *x = NULL, *y = NULL;
    int ok = 0;
    long want = ort_correct(c->src, model, err, sizeof err);
    if (want < 0) {
        printf("FAIL %s accuracy: %s\n", model, err);
        goto out;
    }
    snprintf(path, sizeof path, "%s/models/mnist_test_images.npy", c->src);
    if (refnpy_read(path, &img, err, sizeof err) || img.dtype != KE_DT_U8 || img.rank != 2 ||
        img.shape[1] != 784) {
        printf("FAIL %s accuracy: %s\n", model, img.data ? "images are not uint8 [N,784]" : err);
        goto out;
    }
    snprintf(path, sizeof path, "%s/models/mnist_test_labels.npy", c->src);
    if (refnpy_read(path, &lab, err, sizeof err) || lab.dtype != KE_DT_U8 ||
        lab.numel != (size_t)img.shape[0]) {
        printf("FAIL %s accuracy: %s\n", model, lab.data ? "labels do not match images" : err);
        goto out;
    }
    snprintf(path, sizeof path, "%s/models/%s.onnx", c->src, model);
    if (!(m = ke_model_load_file(path, &c->load, err, sizeof err)) ||
        !(p = ke_plan_new(m, &c->plan, err, sizeof err))) {
        printf("FAIL %s accuracy: %s\n", model, err);
        goto out;
    }
    ke_tensor_t desc;
    if (ke_plan_output_desc(p, 0, MAX_BATCH, &desc) != KE_OK ||
        ke_tensor_numel(&desc) != (int64_t)MAX_BATCH * 10) {
        printf("FAIL %s accuracy: output 0 is not [N,10]\n", model);
        goto out;
    }
    x = malloc(sizeof(float) * 784 * MAX_BATCH);
    y = malloc(sizeof(float) * 10 * MAX_BATCH);
    if (!x || !y)
        goto out;
    const unsigned char *px = img.data, *lb = lab.data;
    long correct = 0, total = (long)img.shape[0];
    for (long r0 = 0; r0 < total; r0 += MAX_BATCH) {
        int b = (int)(total - r0 < MAX_BATCH ? total - r0 : MAX_BATCH);
        for (long i = 0; i < (long)b * 784; i++)
            x[i] = (float)px[r0 * 784 + i] / 255.0f;
        const void *ins[1] = {x};
        void *outs[1] = {y};
        ke_status_t st = ke_plan_run(p, b, ins, outs, err, sizeof err);
        if (st != KE_OK) {
            printf("FAIL %s accuracy: run rows %ld..%ld: %s\n", model, r0, r0 + b - 1, err);
            goto out;
        }
        for (int i = 0; i < b; i++) {
            int best = 0;
            for (int k = 1; k < 10; k++)
                if (y[i * 10 + k] > y[i * 10 + best])
                    best = k;
            correct += best == lb[r0 + i];
        }
    }
    ok = correct == want;
    printf("%s %s accuracy: %ld/%ld correct (%.2f%%), onnxruntime %ld\n", ok ? "ok  " : "FAIL",
           model, correct, total, 100.0 * (double)correct / (double)total, want);
out:
    if (ok)
        c->passed++;
    else
        c->failed++;
    free(x);
    free(y);
    refnpy_free(&img);
    refnpy_free(&lab);
    ke_plan_free(p);
    ke_model_free(m);
}

int main(int argc, char **argv) {
    ctx_t c = {0};
    c.src = getenv("KINFER_SOURCE_DIR");
    if (!c.src || !*c.src)
        c.src = ".";
    c.load = ke_load_default_params();
    c.load.cpu_fusions = 1; /* the plans here are CPU plans */
    c.plan = ke_plan_default_params();
    c.plan.max_batch = MAX_BATCH;
    c.plan.n_threads = 2;
    c.plan.device = "cpu";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-fuse")) {
            c.load.fuse = 0;
        } else if (!strcmp(argv[i], "--no-cpu-fusions")) {
            c.load.cpu_fusions = 0;
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            c.plan.n_threads = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s [--no-fuse] [--no-cpu-fusions] [--threads N]\n", argv[0]);
            return 2;
        }
    }
    size_t n_ops = 0;
    (void)ke_ops_table(&n_ops);
    if (n_ops == 0) {
        printf("op registry is empty (placeholder, no kernels yet): SKIP\n");
        return 77;
    }
    static const char *const models[] = {"mnist_mlp", "cnn", "binary_classifier", "bert_tiny",
                                         "identity16"};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        check_model(&c, models[i]);
    check_accuracy(&c, "mnist_mlp");
    check_accuracy(&c, "cnn");
    printf("%d passed, %d failed\n", c.passed, c.failed);
    return c.failed ? 1 : 0;
}
