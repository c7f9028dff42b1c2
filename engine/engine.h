/* engine: the public API of the kinfer tensor engine.
 *
 *   ke_model_t  an imported, checked and optimised ONNX graph (immutable
 *               after load; may be shared by several plans and threads).
 *   ke_plan_t   the model compiled for one backend and a max batch: one
 *               arena, buffers reused by lifetime, nothing allocated on the
 *               run path. One thread runs a plan at a time.
 *
 * The batch dim: when a graph input's leading dim is symbolic (dim_param or
 * unset), the model has a batch dim; every input then has it as dim 0 and
 * ke_plan_run() takes any row count 1..max_batch. Other dims are fixed.
 * A model with no symbolic leading dim runs with exactly its shapes
 * (n_rows must be 1).
 *
 * Errors: constructors return NULL and write a one-line reason into err
 * (naming the node and op, the tensor, or the file); other calls return a
 * ke_status_t and write err when given. Nothing here exits or aborts. */
#ifndef KE_ENGINE_H
#define KE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "ke_op.h"
#include "ke_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ke_model ke_model_t;
typedef struct ke_plan ke_plan_t;

typedef struct ke_load_params {
    int fold_constants;      /* 1: constant folding (default 1) */
    int fuse;                /* 1: fusion passes (default 1) */
    size_t max_model_bytes;  /* refuse bigger files (default 2 GiB) */
    /* Op table to resolve nodes against; NULL = the built-in kernels
     * (ke_ops_table()). Tests use this to plug fakes below the API. */
    const ke_op_def_t *ops;
    size_t n_ops;
} ke_load_params_t;

ke_load_params_t ke_load_default_params(void);

/* Load from a file / a memory buffer (copied as needed; buf may be freed on
 * return). params may be NULL (defaults). Returns a new model the caller
 * frees with ke_model_free(), or NULL with err set. Any thread. */
ke_model_t *ke_model_load_file(const char *path, const ke_load_params_t *params, char *err,
                               size_t errsz);
ke_model_t *ke_model_load_buffer(const void *buf, size_t len, const ke_load_params_t *params,
                                 char *err, size_t errsz);
/* NULL is a no-op. All plans of the model must be freed first. */
void ke_model_free(ke_model_t *m);

/* A graph input or output. shape[batch_axis] is -1 when batch_axis >= 0. */
typedef struct ke_io_info {
    const char *name;   /* borrowed from the model */
    ke_dtype_t dtype;
    int rank;
    int64_t shape[KE_MAX_RANK];
    int batch_axis;     /* 0 for batched models, -1 otherwise */
    size_t row_bytes;   /* bytes of one batch row (whole tensor if no batch) */
} ke_io_info_t;

int ke_model_num_inputs(const ke_model_t *m);
int ke_model_num_outputs(const ke_model_t *m);
ke_status_t ke_model_input(const ke_model_t *m, int i, ke_io_info_t *out);
ke_status_t ke_model_output(const ke_model_t *m, int i, ke_io_info_t *out);
/* Index of the input/output with that name, -1 if none. */
int ke_model_find_input(const ke_model_t *m, const char *name);
int ke_model_find_output(const ke_model_t *m, const char *name);
/* 1 when the model has a symbolic batch dim. */
int ke_model_has_batch(const ke_model_t *m);
/* Nodes left to run after folding/fusion/dead-node removal (for tests and
 * logs), and how many of each op type: count of nodes with op_type. */
int ke_model_num_nodes(const ke_model_t *m);
int ke_model_count_op(const ke_model_t *m, const char *op_type);

typedef struct ke_plan_params {
    int max_batch;        /* >= 1 (default 1); ignored without a batch dim */
    int n_threads;        /* <= 0: all cores (default 0) */
    const char *device;   /* "cpu" (default), "cuda", "auto" */
} ke_plan_params_t;

ke_plan_params_t ke_plan_default_params(void);

/* Compile the model for a backend and max batch. The model must outlive the
 * plan. Returns NULL with err set (unknown device, no GPU for "cuda", an op
 * the backend cannot run, out of memory). Loading thread. */
ke_plan_t *ke_plan_new(const ke_model_t *m, const ke_plan_params_t *params, char *err,
                       size_t errsz);
void ke_plan_free(ke_plan_t *p); /* NULL is a no-op */

/* Bytes of the plan's activation arena at max batch; bytes it grows by per
 * batch row (so a batcher can size max_batch from a memory budget); bytes
 * of the constant weights. */
size_t ke_plan_arena_bytes(const ke_plan_t *p);
size_t ke_plan_bytes_per_row(const ke_plan_t *p);
size_t ke_plan_weight_bytes(const ke_plan_t *p);
int ke_plan_max_batch(const ke_plan_t *p);
int ke_plan_threads(const ke_plan_t *p);
const char *ke_plan_device(const ke_plan_t *p); /* "cpu", "cuda" */

/* Output i's shape for n_rows (dims filled, data NULL) and its byte size. */
ke_status_t ke_plan_output_desc(const ke_plan_t *p, int i, int n_rows, ke_tensor_t *desc);

/* Run n_rows (1..max_batch; 1 without a batch dim). inputs[i] points to
 * input i's data in model order (n_rows * row_bytes, C order, host memory,
 * only read); outputs[i] to caller memory of ke_plan_output_desc() bytes.
 * No allocation. The plan's run thread only. */
ke_status_t ke_plan_run(ke_plan_t *p, int n_rows, const void *const *inputs,
                        void *const *outputs, char *err, size_t errsz);

/* Profiling: when on, each run adds every node's wall time to per-node
 * counters (one clock read per node; off by default). ke_plan_profile()
 * writes one line per op type (total ms, share, calls) plus the slowest
 * nodes to `out` (a FILE *), and resets the counters. Run thread only. */
void ke_plan_set_profile(ke_plan_t *p, int on);
void ke_plan_profile(ke_plan_t *p, void *out);

#ifdef __cplusplus
}
#endif

#endif
