/* kinfer predict: run an ONNX model on .npy inputs, write .npy outputs.
 *
 *   kinfer predict --model M.onnx --input NAME=FILE.npy [...] --out-dir DIR
 *                  [--threads T] [--device cpu|cuda|auto] [--precision P]
 *
 * Each output is written as DIR/<output name>.npy ('/' in names -> '_').
 * Exit 0 on success, 1 on a model/input/run error (message names the
 * model, node/op, input or file), 2 on a usage error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "engine.h"
#include "kf_npy.h"

#define MAX_INPUTS 64

static void usage(FILE *out) {
    fprintf(out, "usage: kinfer predict --model M.onnx --input NAME=FILE.npy [--input ...] "
                 "--out-dir DIR [options]\n\n"
                 "  --model PATH        ONNX model file\n"
                 "  --input NAME=FILE   .npy file for the model input NAME (once per input;\n"
                 "                      NAME= may be left out when the model has one input)\n"
                 "  --out-dir DIR       where to write <output name>.npy (created if missing)\n"
                 "  --threads N         CPU threads (default: all cores)\n"
                 "  --device D          cpu (default), cuda, cuda:N, auto\n"
                 "  --precision P       fp32 (default); tf32, fp16, bf16 for Gemm/MatMul/Conv\n"
                 "                      on cuda (the cpu refuses them)\n"
                 "  --help              this text\n");
}

static int ke_from_kf(kf_dtype_t dt, ke_dtype_t *out) {
    switch (dt) {
    case KF_DTYPE_FLOAT32: *out = KE_DT_F32; return 0;
    case KF_DTYPE_FLOAT16: *out = KE_DT_F16; return 0;
    case KF_DTYPE_FLOAT64: *out = KE_DT_F64; return 0;
    case KF_DTYPE_INT8: *out = KE_DT_I8; return 0;
    case KF_DTYPE_UINT8: *out = KE_DT_U8; return 0;
    case KF_DTYPE_INT32: *out = KE_DT_I32; return 0;
    case KF_DTYPE_INT64: *out = KE_DT_I64; return 0;
    case KF_DTYPE_BOOL: *out = KE_DT_BOOL; return 0;
    default: return -1;
    }
}

static int kf_from_ke(ke_dtype_t dt, kf_dtype_t *out) {
    for (int i = 0; i < KF_DTYPE_COUNT; i++) {
        ke_dtype_t k;
        if (ke_from_kf((kf_dtype_t)i, &k) == 0 && k == dt) {
            *out = (kf_dtype_t)i;
            return 0;
        }
    }
    return -1;
}

/* mkdir -p: 0 on success (or when it exists), -1 with errno set. */
static int mkdir_p(const char *dir) {
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, dir, n + 1);
    for (char *c = buf + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *c = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(buf, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

typedef struct {
    const char *name;
    const char *file;
    kf_npy_t *npy;
} arg_input_t;

int kf_cli_predict(int argc, char **argv) {
    const char *model_path = NULL, *out_dir = NULL, *device = "cpu";
    ke_precision_t precision = KE_PREC_FP32;
    int threads = 0;
    arg_input_t ins[MAX_INPUTS];
    int n_ins = 0;
    memset(ins, 0, sizeof ins);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "kinfer predict: %s needs a value (or is unknown)\n", a);
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--model"))
            model_path = v;
        else if (!strcmp(a, "--out-dir"))
            out_dir = v;
        else if (!strcmp(a, "--device"))
            device = v;
        else if (!strcmp(a, "--precision")) {
            if (ke_precision_parse(v, &precision) != KE_OK) {
                fprintf(stderr, "kinfer predict: bad --precision '%s' (fp32, tf32, fp16, bf16)\n",
                        v);
                return 2;
            }
        } else if (!strcmp(a, "--threads")) {
            char *end;
            long t = strtol(v, &end, 10);
            if (*end || t < 0 || t > 1024) {
                fprintf(stderr, "kinfer predict: bad --threads '%s'\n", v);
                return 2;
            }
            threads = (int)t;
        } else if (!strcmp(a, "--input")) {
            if (n_ins == MAX_INPUTS) {
                fprintf(stderr, "kinfer predict: too many --input\n");
                return 2;
            }
            const char *eq = strchr(v, '=');
            ins[n_ins].name = NULL;
            ins[n_ins].file = v;
            if (eq) {
                size_t nl = (size_t)(eq - v);
                char *nm = malloc(nl + 1);
                if (!nm)
                    return 1;
                memcpy(nm, v, nl);
                nm[nl] = 0;
                ins[n_ins].name = nm;
                ins[n_ins].file = eq + 1;
            }
            n_ins++;
        } else {
            fprintf(stderr, "kinfer predict: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    int rc = 1;
    ke_model_t *m = NULL;
    ke_plan_t *p = NULL;
    const void *in_ptrs[MAX_INPUTS];
    void *out_ptrs[MAX_INPUTS];
    memset(out_ptrs, 0, sizeof out_ptrs);
    char err[1024];
    if (!model_path || !out_dir || n_ins == 0) {
        fprintf(stderr, "kinfer predict: --model, --input and --out-dir are required\n");
        usage(stderr);
        rc = 2;
        goto out;
    }
    ke_load_params_t lp = ke_load_default_params();
    lp.cpu_fusions = ke_device_is_cpu(device);
    m = ke_model_load_file(model_path, &lp, err, sizeof err);
    if (!m) {
        fprintf(stderr, "kinfer predict: %s\n", err);
        goto out;
    }
    int nmi = ke_model_num_inputs(m), nmo = ke_model_num_outputs(m);
    if (nmi > MAX_INPUTS || nmo > MAX_INPUTS) {
        fprintf(stderr, "kinfer predict: %s: too many inputs/outputs\n", model_path);
        goto out;
    }
    if (n_ins == 1 && !ins[0].name && nmi == 1) {
        ke_io_info_t io;
        ke_model_input(m, 0, &io);
        ins[0].name = strdup(io.name);
        if (!ins[0].name)
            goto out;
    }
    for (int i = 0; i < nmi; i++)
        in_ptrs[i] = NULL;
    int64_t rows = -1;
    for (int k = 0; k < n_ins; k++) {
        if (!ins[k].name) {
            fprintf(stderr,
                    "kinfer predict: --input %s: give NAME=FILE (the model has %d inputs)\n",
                    ins[k].file, nmi);
            rc = 2;
            goto out;
        }
        int idx = ke_model_find_input(m, ins[k].name);
        if (idx < 0) {
            fprintf(stderr, "kinfer predict: %s: the model has no input '%s'\n", model_path,
                    ins[k].name);
            goto out;
        }
        if (in_ptrs[idx]) {
            fprintf(stderr, "kinfer predict: input '%s' given twice\n", ins[k].name);
            rc = 2;
            goto out;
        }
        kf_status_t ks = kf_npy_load_file(ins[k].file, 0, &ins[k].npy, err, sizeof err);
        if (ks != KF_OK) {
            fprintf(stderr, "kinfer predict: %s\n", err);
            goto out;
        }
        ke_io_info_t io;
        ke_model_input(m, idx, &io);
        ke_dtype_t dt;
        const kf_npy_t *a = ins[k].npy;
        if (ke_from_kf(a->dtype, &dt) != 0 || dt != io.dtype) {
            fprintf(stderr, "kinfer predict: %s: input '%s' wants %s, the file holds %s\n",
                    ins[k].file, io.name, ke_dtype_name(io.dtype), kf_dtype_name(a->dtype));
            goto out;
        }
        int ok = (int)a->rank == io.rank;
        for (int d = 0; ok && d < io.rank; d++)
            if (io.shape[d] >= 0 && io.shape[d] != a->shape[d])
                ok = 0;
        if (ok && io.batch_axis >= 0) {
            int64_t r = a->shape[io.batch_axis];
            if (r < 1 || (rows >= 0 && r != rows))
                ok = 0;
            rows = r;
        }
        if (!ok) {
            char want[128] = "[", *w = want + 1;
            for (int d = 0; d < io.rank; d++)
                w += snprintf(w, (size_t)(want + sizeof want - w), "%s%s", d ? "," : "",
                              io.shape[d] < 0 ? "N" : "");
            (void)w;
            fprintf(stderr,
                    "kinfer predict: %s: shape does not fit input '%s' (rank %d, "
                    "fixed dims and one row count N >= 1 shared by all inputs)\n",
                    ins[k].file, io.name, io.rank);
            goto out;
        }
        in_ptrs[idx] = a->data;
    }
    for (int i = 0; i < nmi; i++)
        if (!in_ptrs[i]) {
            ke_io_info_t io;
            ke_model_input(m, i, &io);
            fprintf(stderr, "kinfer predict: missing --input %s=FILE.npy\n", io.name);
            rc = 2;
            goto out;
        }
    if (rows < 1)
        rows = 1;
    if (rows > (1 << 20)) {
        fprintf(stderr, "kinfer predict: %lld rows is too many\n", (long long)rows);
        goto out;
    }
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = (int)rows;
    pp.n_threads = threads;
    pp.device = device;
    pp.precision = precision;
    p = ke_plan_new(m, &pp, err, sizeof err);
    if (!p) {
        fprintf(stderr, "kinfer predict: %s: %s\n", model_path, err);
        goto out;
    }
    for (int i = 0; i < nmo; i++) {
        ke_tensor_t d;
        ke_plan_output_desc(p, i, (int)rows, &d);
        out_ptrs[i] = malloc(ke_tensor_nbytes(&d) + 1);
        if (!out_ptrs[i]) {
            fprintf(stderr, "kinfer predict: out of memory\n");
            goto out;
        }
    }
    if (ke_plan_run(p, (int)rows, in_ptrs, out_ptrs, err, sizeof err) != KE_OK) {
        fprintf(stderr, "kinfer predict: %s: %s\n", model_path, err);
        goto out;
    }
    if (mkdir_p(out_dir) != 0) {
        fprintf(stderr, "kinfer predict: %s: %s\n", out_dir, strerror(errno));
        goto out;
    }
    for (int i = 0; i < nmo; i++) {
        ke_io_info_t io;
        ke_tensor_t d;
        ke_model_output(m, i, &io);
        ke_plan_output_desc(p, i, (int)rows, &d);
        kf_dtype_t kdt;
        if (kf_from_ke(d.dtype, &kdt) != 0) {
            fprintf(stderr, "kinfer predict: output '%s': dtype %s has no .npy mapping\n", io.name,
                    ke_dtype_name(d.dtype));
            goto out;
        }
        char path[4096], fname[1024];
        snprintf(fname, sizeof fname, "%s", io.name);
        for (char *c = fname; *c; c++)
            if (*c == '/' || *c == '\\')
                *c = '_';
        snprintf(path, sizeof path, "%s/%s.npy", out_dir, fname);
        if (kf_npy_save_file(path, kdt, (uint32_t)d.rank, d.shape, out_ptrs[i],
                             ke_tensor_nbytes(&d), err, sizeof err) != KF_OK) {
            fprintf(stderr, "kinfer predict: %s\n", err);
            goto out;
        }
    }
    rc = 0;
out:
    for (int i = 0; i < MAX_INPUTS; i++) {
        free(out_ptrs[i]);
        kf_npy_free(ins[i].npy);
        if (ins[i].name)
            free((char *)ins[i].name);
    }
    ke_plan_free(p);
    ke_model_free(m);
    return rc;
}
