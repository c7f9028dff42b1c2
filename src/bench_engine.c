/* kinfer bench engine: throughput/latency of one model on the engine.
 *
 *   kinfer bench engine --model M.onnx --batch B [--threads T] [--seconds S]
 *                       [--device cpu|cuda|cuda:N|auto] [--precision P] [--warmup N]
 *
 * Inputs are deterministic pseudo-random (floats in [-1,1), integers and
 * bools 0/1 so ids and masks stay valid). Prints one JSON line:
 * {"model","batch","threads","device","device_name","precision","inf_per_s",
 *  "ms_p50","ms_p99","runs","arena_bytes","bytes_per_row"} (device_name: the
 *  GPU's name on cuda, "cpu" otherwise). Exit 0, 1 on error, 2 on usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "engine.h"

#define MAX_IO 64

static void usage(FILE *out) {
    fprintf(out, "usage: kinfer bench engine --model M.onnx --batch B [options]\n\n"
                 "  --model PATH    ONNX model\n"
                 "  --batch B       rows per run (default 1)\n"
                 "  --threads T     CPU threads (default: all cores)\n"
                 "  --seconds S     measuring time (default 2)\n"
                 "  --warmup N      untimed runs first (default 5)\n"
                 "  --device D      cpu (default), cuda, cuda:N, auto\n"
                 "  --precision P   fp32 (default); tf32, fp16, bf16 (cuda only)\n"
                 "  --profile       per-op time table on stderr (timed separately)\n"
                 "  --help          this text\n");
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void fill(void *data, ke_dtype_t dt, size_t n, unsigned *seed) {
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        unsigned r = *seed >> 8;
        switch (dt) {
        case KE_DT_F32: ((float *)data)[i] = (float)r / (float)(1u << 24) * 2.0f - 1.0f; break;
        case KE_DT_F64: ((double *)data)[i] = (double)r / (double)(1u << 24) * 2.0 - 1.0; break;
        case KE_DT_I64: ((int64_t *)data)[i] = r & 1; break;
        case KE_DT_I32: ((int32_t *)data)[i] = (int32_t)(r & 1); break;
        default: ((uint8_t *)data)[i] = 0; break;
        }
    }
}

int kf_bench_engine(int argc, char **argv) {
    const char *model = NULL, *device = "cpu";
    int batch = 1, threads = 0, warmup = 5;
    double seconds = 2.0;
    int profile = 0;
    ke_precision_t precision = KE_PREC_FP32;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--profile")) {
            profile = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "kinfer bench engine: %s needs a value (or is unknown)\n", a);
            return 2;
        }
        const char *v = argv[++i];
        char *end = NULL;
        if (!strcmp(a, "--model"))
            model = v;
        else if (!strcmp(a, "--device"))
            device = v;
        else if (!strcmp(a, "--precision")) {
            if (ke_precision_parse(v, &precision) != KE_OK) {
                fprintf(stderr,
                        "kinfer bench engine: bad --precision '%s' (fp32, tf32, fp16, "
                        "bf16)\n",
                        v);
                return 2;
            }
        } else if (!strcmp(a, "--batch"))
            batch = (int)strtol(v, &end, 10);
        else if (!strcmp(a, "--threads"))
            threads = (int)strtol(v, &end, 10);
        else if (!strcmp(a, "--warmup"))
            warmup = (int)strtol(v, &end, 10);
        else if (!strcmp(a, "--seconds"))
            seconds = strtod(v, &end);
        else {
            fprintf(stderr, "kinfer bench engine: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (end && *end) {
            fprintf(stderr, "kinfer bench engine: bad value '%s' for %s\n", v, a);
            return 2;
        }
    }
    if (!model || batch < 1 || batch > (1 << 16) || threads < 0 || seconds <= 0 || seconds > 3600 ||
        warmup < 0) {
        fprintf(stderr, "kinfer bench engine: --model is required; --batch 1..65536, "
                        "--seconds > 0\n");
        usage(stderr);
        return 2;
    }
    char err[1024];
    int rc = 1;
    ke_plan_t *p = NULL;
    void *ins[MAX_IO] = {0}, *outs[MAX_IO] = {0};
    double *lat = NULL;
    ke_load_params_t lp = ke_load_default_params();
    lp.cpu_fusions = ke_device_is_cpu(device);
    ke_model_t *m = ke_model_load_file(model, &lp, err, sizeof err);
    if (!m) {
        fprintf(stderr, "kinfer bench engine: %s\n", err);
        return 1;
    }
    int ni = ke_model_num_inputs(m), no = ke_model_num_outputs(m);
    if (ni > MAX_IO || no > MAX_IO)
        goto out;
    if (!ke_model_has_batch(m))
        batch = 1;
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = batch;
    pp.n_threads = threads;
    pp.device = device;
    pp.precision = precision;
    p = ke_plan_new(m, &pp, err, sizeof err);
    if (!p) {
        fprintf(stderr, "kinfer bench engine: %s: %s\n", model, err);
        goto out;
    }
    unsigned seed = 42;
    for (int i = 0; i < ni; i++) {
        ke_io_info_t io;
        ke_model_input(m, i, &io);
        size_t bytes = io.row_bytes * (io.batch_axis >= 0 ? (size_t)batch : 1);
        ins[i] = calloc(1, bytes + 8);
        if (!ins[i])
            goto nomem;
        size_t es = ke_dtype_size(io.dtype);
        fill(ins[i], io.dtype, es ? bytes / es : 0, &seed);
    }
    for (int i = 0; i < no; i++) {
        ke_tensor_t d;
        ke_plan_output_desc(p, i, batch, &d);
        outs[i] = malloc(ke_tensor_nbytes(&d) + 8);
        if (!outs[i])
            goto nomem;
    }
    for (int w = 0; w < warmup; w++)
        if (ke_plan_run(p, batch, (const void *const *)ins, outs, err, sizeof err) != KE_OK) {
            fprintf(stderr, "kinfer bench engine: %s: %s\n", model, err);
            goto out;
        }
    size_t cap = 1024, n = 0;
    lat = malloc(cap * sizeof *lat);
    if (!lat)
        goto nomem;
    double t0 = now_s(), t = t0;
    while (t - t0 < seconds || n < 3) {
        double s = now_s();
        if (ke_plan_run(p, batch, (const void *const *)ins, outs, err, sizeof err) != KE_OK) {
            fprintf(stderr, "kinfer bench engine: %s: %s\n", model, err);
            goto out;
        }
        t = now_s();
        if (n == cap) {
            double *nl = realloc(lat, cap * 2 * sizeof *lat);
            if (!nl)
                goto nomem;
            lat = nl;
            cap *= 2;
        }
        lat[n++] = t - s;
    }
    double total = t - t0;
    qsort(lat, n, sizeof *lat, cmp_d);
    const char *base = strrchr(model, '/');
    base = base ? base + 1 : model;
    char name[256];
    snprintf(name, sizeof name, "%s", base);
    char *dot = strstr(name, ".onnx");
    if (dot)
        *dot = 0;
    for (char *c = name; *c; c++)
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
            *c = '_';
    char dev_name[256];
    ke_plan_device_name(p, dev_name, sizeof dev_name);
    for (char *c = dev_name; *c; c++)
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
            *c = '_';
    printf(
        "{\"model\":\"%s\",\"batch\":%d,\"threads\":%d,\"device\":\"%s\","
        "\"device_name\":\"%s\",\"precision\":\"%s\",\"inf_per_s\":%.1f,"
        "\"ms_p50\":%.4f,\"ms_p99\":%.4f,\"runs\":%zu,\"arena_bytes\":%zu,\"bytes_per_row\":%zu}\n",
        name, batch, ke_plan_threads(p), ke_plan_device(p), dev_name,
        ke_precision_name(ke_plan_precision(p)), (double)n * batch / total, lat[n / 2] * 1e3,
        lat[(size_t)((double)(n - 1) * 0.99)] * 1e3, n, ke_plan_arena_bytes(p),
        ke_plan_bytes_per_row(p));
    fflush(stdout);
    if (profile) { /* separate runs so the JSON numbers stay unprofiled */
        ke_plan_set_profile(p, 1);
        for (size_t r = 0; r < n && r < 200; r++)
            if (ke_plan_run(p, batch, (const void *const *)ins, outs, err, sizeof err) != KE_OK)
                break;
        ke_plan_profile(p, stderr);
        ke_plan_set_profile(p, 0);
    }
    rc = 0;
    goto out;
nomem:
    fprintf(stderr, "kinfer bench engine: out of memory\n");
out:
    free(lat);
    for (int i = 0; i < MAX_IO; i++) {
        free(ins[i]);
        free(outs[i]);
    }
    ke_plan_free(p);
    ke_model_free(m);
    return rc;
}
