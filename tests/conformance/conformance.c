/* ONNX node conformance: runs every node test of libonnx-testdata
 * (data/node/<test>/model.onnx + test_data_set_N/{input,output}_K.pb) whose
 * ops are all in the registry (ke_ops_table), node by node through the op
 * contract (infer -> prepare -> run), and compares every output with the
 * expected one (float: rtol 1e-3, atol 1e-4; integers and bools exact).
 *
 * Prints one line per failure, then "N passed, M failed, K unsupported"
 * and the unsupported ops met (with counts). Exit 1 on any failure, 77 when
 * the test data is not installed.
 *
 * usage: conformance NODE_DIR [-v] [-k SUBSTRING]
 *   (ctest passes the libonnx-testdata node directory found by CMake) */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ke_op.h"
#include "onnx.pb-c.h"

#define MAX_VALUES 256
#define MAX_IO 64
#define MAX_UNSUP 256

typedef struct value {
    char *name;
    ke_tensor_t t;
} value_t;

typedef struct env {
    value_t v[MAX_VALUES];
    int n;
} env_t;

typedef struct unsup {
    char name[96];
    int count;
} unsup_t;

typedef struct stats {
    int passed, failed, unsupported;
    unsup_t u[MAX_UNSUP];
    int nu;
} stats_t;

enum { R_PASS = 0, R_FAIL, R_UNSUP };

static void note_unsup(stats_t *s, const char *what) {
    for (int i = 0; i < s->nu; i++)
        if (!strcmp(s->u[i].name, what)) {
            s->u[i].count++;
            return;
        }
    if (s->nu < MAX_UNSUP) {
        snprintf(s->u[s->nu].name, sizeof s->u[s->nu].name, "%s", what);
        s->u[s->nu++].count = 1;
    }
}

static void *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc((size_t)n + 1);
            if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            }
            *len = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

/* TensorProto -> owned ke_tensor_t. Returns 0, or -1 (unsupported / bad). */
static int tensor_from_proto(const Onnx__TensorProto *tp, ke_tensor_t *t, char *why, size_t whysz) {
    ke_dtype_t dt = (ke_dtype_t)tp->data_type;
    size_t es = ke_dtype_size(dt);
    if (!es || dt == KE_DT_F16) {
        snprintf(why, whysz, "tensor dtype %d", tp->data_type);
        return -1;
    }
    if (tp->n_dims > KE_MAX_RANK) {
        snprintf(why, whysz, "rank %zu", tp->n_dims);
        return -1;
    }
    /* a SequenceProto misread as a TensorProto yields wild dims: refuse
     * anything above 1 GiB before allocating */
    double elems = 1;
    for (size_t i = 0; i < tp->n_dims; i++)
        elems *= tp->dims[i] < 0 ? 1e30 : (double)tp->dims[i];
    if (elems * (double)es > (double)(1u << 30)) {
        snprintf(why, whysz, "tensor too large or dims invalid");
        return -1;
    }
    if (ke_tensor_alloc(t, dt, (int)tp->n_dims, tp->dims) != KE_OK) {
        snprintf(why, whysz, "bad dims");
        return -1;
    }
    int64_t n = ke_tensor_numel(t);
    size_t nb = ke_tensor_nbytes(t);
    if (tp->has_raw_data) {
        if (tp->raw_data.len != nb) {
            snprintf(why, whysz, "raw_data %zu bytes, want %zu", tp->raw_data.len, nb);
            ke_tensor_release(t);
            return -1;
        }
        if (nb)
            memcpy(t->data, tp->raw_data.data, nb);
        return 0;
    }
    int64_t have = -1;
    for (int64_t i = 0; i < n; i++) {
        switch (dt) {
        case KE_DT_F32:
            have = (int64_t)tp->n_float_data;
            if (i < have)
                ((float *)t->data)[i] = tp->float_data[i];
            break;
        case KE_DT_F64:
            have = (int64_t)tp->n_double_data;
            if (i < have)
                ((double *)t->data)[i] = tp->double_data[i];
            break;
        case KE_DT_I64:
            have = (int64_t)tp->n_int64_data;
            if (i < have)
                ((int64_t *)t->data)[i] = tp->int64_data[i];
            break;
        case KE_DT_U64:
        case KE_DT_U32:
            have = (int64_t)tp->n_uint64_data;
            if (i < have) {
                if (dt == KE_DT_U64)
                    ((uint64_t *)t->data)[i] = tp->uint64_data[i];
                else
                    ((uint32_t *)t->data)[i] = (uint32_t)tp->uint64_data[i];
            }
            break;
        default: /* int32 and narrower live in int32_data */
            have = (int64_t)tp->n_int32_data;
            if (i < have) {
                int32_t v = tp->int32_data[i];
                if (es == 4)
                    memcpy((char *)t->data + 4 * i, &v, 4);
                else if (es == 2) {
                    int16_t h = (int16_t)v;
                    memcpy((char *)t->data + 2 * i, &h, 2);
                } else {
                    ((uint8_t *)t->data)[i] = (uint8_t)v;
                }
            }
            break;
        }
        if (i >= have) {
            snprintf(why, whysz, "typed data has %lld of %lld values", (long long)have,
                     (long long)n);
            ke_tensor_release(t);
            return -1;
        }
    }
    return 0;
}

static int load_pb(const char *path, ke_tensor_t *t, char *why, size_t whysz) {
    size_t len = 0;
    void *buf = read_file(path, &len);
    if (!buf) {
        snprintf(why, whysz, "cannot read %s", path);
        return -1;
    }
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    if (!tp) {
        snprintf(why, whysz, "%s is not a TensorProto", path);
        return -1;
    }
    int rc = tensor_from_proto(tp, t, why, whysz);
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return rc;
}

static ke_tensor_t *env_get(env_t *e, const char *name) {
    for (int i = e->n - 1; i >= 0; i--)
        if (!strcmp(e->v[i].name, name))
            return &e->v[i].t;
    return NULL;
}

static ke_tensor_t *env_add(env_t *e, const char *name) {
    if (e->n >= MAX_VALUES)
        return NULL;
    value_t *v = &e->v[e->n++];
    v->name = strdup(name);
    memset(&v->t, 0, sizeof v->t);
    return &v->t;
}

static void env_clear(env_t *e) {
    for (int i = 0; i < e->n; i++) {
        free(e->v[i].name);
        ke_tensor_release(&e->v[i].t);
    }
    e->n = 0;
}

/* Attributes of one node as the op contract sees them. */
typedef struct attrs_buf {
    ke_attr_t items[MAX_IO];
    ke_tensor_t tensors[MAX_IO];
    char *strs[MAX_IO];
    const char **strvecs[MAX_IO];
    ke_attrs_t a;
} attrs_buf_t;

static void attrs_free(attrs_buf_t *b) {
    for (int i = 0; i < b->a.n; i++) {
        ke_tensor_release(&b->tensors[i]);
        free(b->strs[i]);
        if (b->strvecs[i]) {
            for (int64_t k = 0; k < b->items[i].n; k++)
                free((void *)b->strvecs[i][k]);
            free(b->strvecs[i]);
        }
    }
}

static int attrs_from_node(const Onnx__NodeProto *np, attrs_buf_t *b, char *why, size_t whysz) {
    memset(b, 0, sizeof *b);
    b->a.items = b->items;
    if (np->n_attribute > MAX_IO) {
        snprintf(why, whysz, "too many attributes");
        return -1;
    }
    for (size_t i = 0; i < np->n_attribute; i++) {
        const Onnx__AttributeProto *ap = np->attribute[i];
        ke_attr_t *a = &b->items[i];
        b->a.n = (int)i + 1;
        a->name = ap->name;
        a->type = (ke_attr_type_t)ap->type;
        switch (ap->type) {
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: a->f = ap->f; break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: a->i = ap->i; break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
            b->strs[i] = strndup((const char *)ap->s.data, ap->s.len);
            a->s = b->strs[i];
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
            if (!ap->t || tensor_from_proto(ap->t, &b->tensors[i], why, whysz))
                return -1;
            a->t = &b->tensors[i];
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
            a->floats = ap->floats;
            a->n = (int64_t)ap->n_floats;
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
            a->ints = ap->ints;
            a->n = (int64_t)ap->n_ints;
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
            b->strvecs[i] = calloc(ap->n_strings + 1, sizeof(char *));
            for (size_t k = 0; k < ap->n_strings; k++)
                b->strvecs[i][k] = strndup((const char *)ap->strings[k].data, ap->strings[k].len);
            a->strings = b->strvecs[i];
            a->n = (int64_t)ap->n_strings;
            break;
        default:
            snprintf(why, whysz, "attribute '%s' of type %d", ap->name, (int)ap->type);
            return -1;
        }
    }
    return 0;
}

/* Output compare: 0 = equal within tolerance. */
static int compare(const ke_tensor_t *got, const ke_tensor_t *want, char *why, size_t whysz) {
    char b1[128], b2[128];
    if (got->dtype != want->dtype || !ke_tensor_same_shape(got, want)) {
        snprintf(why, whysz, "got %s, want %s", ke_tensor_describe(got, b1, sizeof b1),
                 ke_tensor_describe(want, b2, sizeof b2));
        return -1;
    }
    int64_t n = ke_tensor_numel(want);
    for (int64_t i = 0; i < n; i++) {
        if (want->dtype == KE_DT_F32 || want->dtype == KE_DT_F64) {
            double g = ke_tensor_get_f64(got, i), w = ke_tensor_get_f64(want, i);
            if (isnan(w) && isnan(g))
                continue;
            if (isinf(w) && g == w)
                continue;
            if (!(fabs(g - w) <= 1e-4 + 1e-3 * fabs(w))) {
                snprintf(why, whysz, "element %lld: got %.7g, want %.7g", (long long)i, g, w);
                return -1;
            }
        } else if (ke_tensor_get_i64(got, i) != ke_tensor_get_i64(want, i)) {
            snprintf(why, whysz, "element %lld: got %lld, want %lld", (long long)i,
                     (long long)ke_tensor_get_i64(got, i), (long long)ke_tensor_get_i64(want, i));
            return -1;
        }
    }
    return 0;
}

static int model_opset(const Onnx__ModelProto *m) {
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const char *d = m->opset_import[i]->domain;
        if (!d || !*d || !strcmp(d, "ai.onnx"))
            return (int)m->opset_import[i]->version;
    }
    return 0;
}

/* Runs one node: infer, allocate outputs, prepare, run. */
static int run_node(const Onnx__NodeProto *np, const ke_op_def_t *def, int opset, env_t *e,
                    stats_t *s, char *why, size_t whysz) {
    attrs_buf_t ab;
    if (attrs_from_node(np, &ab, why, whysz)) {
        attrs_free(&ab);
        char u[96];
        snprintf(u, sizeof u, "%s(attribute)", np->op_type);
        note_unsup(s, u);
        return R_UNSUP;
    }
    ke_node_info_t info = {np->name ? np->name : "", np->op_type, np->domain ? np->domain : "",
                           opset, &ab.a};
    const ke_tensor_t *in[MAX_IO] = {0};
    ke_tensor_t outs[MAX_IO];
    ke_tensor_t *out[MAX_IO] = {0};
    int n_in = (int)np->n_input, n_out = (int)np->n_output, rc = R_PASS;
    memset(outs, 0, sizeof outs);
    if (n_in > MAX_IO || n_out > MAX_IO) {
        attrs_free(&ab);
        return R_UNSUP;
    }
    for (int i = 0; i < n_in; i++) {
        if (!np->input[i][0])
            continue;
        in[i] = env_get(e, np->input[i]);
        if (!in[i]) {
            snprintf(why, whysz, "input '%s' has no value", np->input[i]);
            attrs_free(&ab);
            return R_FAIL;
        }
    }
    while (n_in > 0 && !in[n_in - 1])
        n_in--;
    for (int i = 0; i < n_out; i++)
        if (np->output[i][0])
            out[i] = &outs[i];
    while (n_out > 0 && !out[n_out - 1])
        n_out--;
    char err[256] = "";
    ke_status_t st = def->infer(&info, in, n_in, out, n_out, err, sizeof err);
    if (st == KE_ERR_UNSUPPORTED) {
        char u[96];
        snprintf(u, sizeof u, "%s(%.60s)", np->op_type, err);
        note_unsup(s, u);
        snprintf(why, whysz, "%s", err);
        attrs_free(&ab);
        return R_UNSUP;
    }
    if (st != KE_OK) {
        snprintf(why, whysz, "%s infer: %s", np->op_type, err);
        attrs_free(&ab);
        return R_FAIL;
    }
    for (int i = 0; i < n_out && rc == R_PASS; i++) {
        if (!out[i])
            continue;
        ke_tensor_t shape = outs[i];
        if (ke_tensor_alloc(&outs[i], shape.dtype, shape.rank, shape.shape) != KE_OK) {
            snprintf(why, whysz, "cannot allocate output %d", i);
            rc = R_FAIL;
        }
    }
    void *state = NULL, *scratch = NULL;
    size_t scratch_bytes = 0;
    if (rc == R_PASS && def->prepare) {
        st = def->prepare(&info, in, n_in, (const ke_tensor_t *const *)out, n_out, &state,
                          &scratch_bytes, err, sizeof err);
        if (st != KE_OK) {
            snprintf(why, whysz, "%s prepare: %s", np->op_type, err);
            rc = R_FAIL;
        }
    }
    if (rc == R_PASS) {
        scratch = scratch_bytes ? aligned_alloc(64, (scratch_bytes + 63) & ~(size_t)63) : NULL;
        ke_exec_ctx_t x = {NULL, 1, scratch, scratch_bytes, err, sizeof err};
        st = def->run(&info, state, in, n_in, out, n_out, &x);
        if (st != KE_OK) {
            snprintf(why, whysz, "%s run: %s", np->op_type, err);
            rc = R_FAIL;
        }
    }
    free(scratch);
    if (state && def->free_state)
        def->free_state(state);
    for (int i = 0; i < n_out; i++) {
        if (!out[i])
            continue;
        ke_tensor_t *dst = rc == R_PASS ? env_add(e, np->output[i]) : NULL;
        if (dst)
            *dst = outs[i];
        else
            ke_tensor_release(&outs[i]);
    }
    attrs_free(&ab);
    return rc;
}

static int is_initializer(const Onnx__GraphProto *g, const char *name) {
    for (size_t i = 0; i < g->n_initializer; i++)
        if (!strcmp(g->initializer[i]->name, name))
            return 1;
    return 0;
}

static int run_test(const char *dir, const char *name, stats_t *s, int verbose) {
    char path[4096], why[512] = "";
    snprintf(path, sizeof path, "%s/%s/model.onnx", dir, name);
    size_t len = 0;
    void *buf = read_file(path, &len);
    if (!buf)
        return -1; /* not a test directory */
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    free(buf);
    if (!m || !m->graph) {
        printf("FAIL %s: model.onnx does not parse\n", name);
        onnx__model_proto__free_unpacked(m, NULL);
        return R_FAIL;
    }
    const Onnx__GraphProto *g = m->graph;
    int opset = model_opset(m), rc = R_PASS;
    if (opset < KE_OPSET_MIN || opset > KE_OPSET_MAX) {
        char u[64];
        snprintf(u, sizeof u, "(model opset %d)", opset);
        note_unsup(s, u);
        rc = R_UNSUP;
    }
    const ke_op_def_t *defs[MAX_VALUES];
    if (g->n_node > MAX_VALUES)
        rc = R_UNSUP;
    for (size_t i = 0; i < g->n_node && rc == R_PASS; i++) {
        defs[i] = ke_op_find(g->node[i]->op_type, g->node[i]->domain, opset);
        if (!defs[i]) {
            note_unsup(s, g->node[i]->op_type);
            rc = R_UNSUP;
        }
    }
    for (int set = 0; rc == R_PASS; set++) {
        snprintf(path, sizeof path, "%s/%s/test_data_set_%d", dir, name, set);
        DIR *d = opendir(path);
        if (!d)
            break;
        closedir(d);
        env_t *e = calloc(1, sizeof *e);
        for (size_t i = 0; i < g->n_initializer && rc == R_PASS; i++) {
            ke_tensor_t *t = env_add(e, g->initializer[i]->name);
            if (!t || tensor_from_proto(g->initializer[i], t, why, sizeof why))
                rc = R_UNSUP;
        }
        int k = 0;
        for (size_t i = 0; i < g->n_input && rc == R_PASS; i++) {
            if (is_initializer(g, g->input[i]->name))
                continue;
            char p2[4200];
            snprintf(p2, sizeof p2, "%s/input_%d.pb", path, k++);
            ke_tensor_t *t = env_add(e, g->input[i]->name);
            const Onnx__TypeProto *ty = g->input[i]->type;
            int declared = ty && ty->tensor_type ? ty->tensor_type->elem_type : -1;
            if (!t || load_pb(p2, t, why, sizeof why) || (int)t->dtype != declared) {
                note_unsup(s, "(non-tensor or unsupported input)");
                rc = R_UNSUP;
            }
        }
        for (size_t i = 0; i < g->n_node && rc == R_PASS; i++)
            rc = run_node(g->node[i], defs[i], opset, e, s, why, sizeof why);
        for (size_t i = 0; i < g->n_output && rc == R_PASS; i++) {
            char p2[4200];
            snprintf(p2, sizeof p2, "%s/output_%zu.pb", path, i);
            ke_tensor_t want = {0};
            const ke_tensor_t *got = env_get(e, g->output[i]->name);
            const Onnx__TypeProto *ty = g->output[i]->type;
            int declared = ty && ty->tensor_type ? ty->tensor_type->elem_type : -1;
            if (load_pb(p2, &want, why, sizeof why) || (int)want.dtype != declared) {
                if (want.data)
                    ke_tensor_release(&want);
                note_unsup(s, "(non-tensor or unsupported output)");
                rc = R_UNSUP;
                break;
            }
            if (!got) {
                snprintf(why, sizeof why, "output '%s' not produced", g->output[i]->name);
                rc = R_FAIL;
            } else {
                char w2[256];
                if (compare(got, &want, w2, sizeof w2)) {
                    snprintf(why, sizeof why, "output %zu '%.64s': %s", i, g->output[i]->name, w2);
                    rc = R_FAIL;
                }
            }
            ke_tensor_release(&want);
        }
        env_clear(e);
        free(e);
    }
    if (rc == R_FAIL)
        printf("FAIL %s: %s\n", name, why);
    else if (verbose)
        printf("%s %s%s%s\n", rc == R_PASS ? "ok  " : "skip", name, rc == R_UNSUP ? ": " : "",
               rc == R_UNSUP ? why : "");
    onnx__model_proto__free_unpacked(m, NULL);
    return rc;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_unsup(const void *a, const void *b) {
    const unsup_t *x = a, *y = b;
    return y->count != x->count ? y->count - x->count : strcmp(x->name, y->name);
}

int main(int argc, char **argv) {
    const char *dir = NULL;
    const char *filter = NULL;
    int verbose = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v"))
            verbose = 1;
        else if (!strcmp(argv[i], "-k") && i + 1 < argc)
            filter = argv[++i];
        else
            dir = argv[i];
    }
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d) {
        fprintf(stderr, "conformance: %s not found (install libonnx-testdata): skipped\n",
                dir ? dir : "node test directory");
        return 77;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "test_", 5) || (filter && !strstr(de->d_name, filter)))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            names = realloc(names, cap * sizeof *names);
        }
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    stats_t *s = calloc(1, sizeof *s);
    for (size_t i = 0; i < n; i++) {
        int rc = run_test(dir, names[i], s, verbose);
        if (rc == R_PASS)
            s->passed++;
        else if (rc == R_FAIL)
            s->failed++;
        else if (rc == R_UNSUP)
            s->unsupported++;
        free(names[i]);
    }
    free(names);
    printf("%d passed, %d failed, %d unsupported\n", s->passed, s->failed, s->unsupported);
    qsort(s->u, (size_t)s->nu, sizeof s->u[0], cmp_unsup);
    printf("unsupported ops met (tests):");
    for (int i = 0; i < s->nu; i++)
        printf("%s %s x%d", i ? "," : "", s->u[i].name, s->u[i].count);
    printf("\n");
    int failed = s->failed, passed = s->passed;
    free(s);
    /* a run that passes nothing proves nothing */
    return failed || passed == 0 ? 1 : 0;
}
