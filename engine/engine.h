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
    int fold_constants; /* 1: constant folding (default 1) */
    int fuse;           /* 1: fusion passes (default 1) */
    /* 1: also the fusions only the CPU kernels run natively (Transposes and
     * a constant scale folded into batched MatMuls: attention; skipped on
     * CPUs without AVX2, where the unfused graph is faster); set it when
     * the model's plans are all for the CPU backend, as other backends hand
     * such nodes to the CPU fallback (default 0). */
    int cpu_fusions;
    size_t max_model_bytes; /* refuse bigger files (default 2 GiB) */
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
    const char *name; /* borrowed from the model */
    ke_dtype_t dtype;
    int rank;
    int64_t shape[KE_MAX_RANK];
    int batch_axis;   /* 0 for batched models, -1 otherwise */
    size_t row_bytes; /* bytes of one batch row (whole tensor if no batch) */
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

/* Compute precision of Gemm/MatMul/Conv (everything else stays FP32).
 * Reduced precision is an opt-in of device backends; the CPU backend
 * refuses anything but FP32 (ke_plan_new fails and says so). Expected
 * error against FP32 (kernels/kk_gemm.h states the per-GEMM tolerances):
 *   FP32  reference;  TF32  ~1e-3 relative (tests: rtol 5e-3)
 *   FP16  FP16 operands, FP32 accumulate (tests: rtol/atol 1e-2 per GEMM)
 *   BF16  BF16 operands, FP32 accumulate (tests: rtol/atol 5e-2 per GEMM) */
typedef enum ke_precision {
    KE_PREC_FP32 = 0,
    KE_PREC_TF32,
    KE_PREC_FP16,
    KE_PREC_BF16
} ke_precision_t;

/* "fp32", "tf32", "fp16", "bf16" -> *out; KE_ERR_INVALID_ARG otherwise. */
ke_status_t ke_precision_parse(const char *s, ke_precision_t *out);

/* 1 when a plan for `device` ("cpu", "auto", "cuda", "cuda:N"; NULL = "cpu")
 * would run on the CPU backend: "cpu", or "auto" with no usable CUDA device
 * (or a build without CUDA). Callers use it to pick CPU-only load passes
 * (ke_load_params.cpu_fusions) before any plan exists. */
int ke_device_is_cpu(const char *device);
const char *ke_precision_name(ke_precision_t p);

struct ke_backend;

typedef struct ke_plan_params {
    int max_batch;            /* >= 1 (default 1); ignored without a batch dim */
    int n_threads;            /* <= 0: all cores (default 0) */
    const char *device;       /* "cpu" (default), "cuda", "cuda:N", "auto" */
    ke_precision_t precision; /* default KE_PREC_FP32 */
    /* NULL (default): the backend comes from `device`. Non-NULL: the plan
     * takes ownership of this backend (also when ke_plan_new fails); tests
     * plug fake backends here (engine/ke_backend.h). */
    struct ke_backend *backend;
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
ke_precision_t ke_plan_precision(const ke_plan_t *p);
/* The device's name ("cpu" for host backends) into buf. Any thread. */
void ke_plan_device_name(const ke_plan_t *p, char *buf, size_t size);
/* Free and total bytes of the plan's device (cudaMemGetInfo), for sizing
 * batches from the device. KE_ERR_UNSUPPORTED for host backends (use a
 * host memory budget there). Any thread. */
ke_status_t ke_plan_device_memory(const ke_plan_t *p, size_t *free_bytes, size_t *total_bytes);

/* Output i's shape for n_rows (dims filled, data NULL) and its byte size. */
ke_status_t ke_plan_output_desc(const ke_plan_t *p, int i, int n_rows, ke_tensor_t *desc);

/* Run n_rows (1..max_batch; 1 without a batch dim). inputs[i] points to
 * input i's data in model order (n_rows * row_bytes, C order, host memory,
 * only read); outputs[i] to caller memory of ke_plan_output_desc() bytes.
 * No allocation. The plan's run thread only. */
ke_status_t ke_plan_run(ke_plan_t *p, int n_rows, const void *const *inputs, void *const *outputs,
                        char *err, size_t errsz);

/* Asynchronous runs (double buffering). ke_plan_submit copies the inputs
 * (the caller may reuse its buffers on return) and queues the batch;
 * ke_plan_wait blocks until the OLDEST queued batch is done, copies its
 * outputs (ke_plan_output_desc() bytes for its row count) and returns its
 * row count in *n_rows (may be NULL). At most KE_PLAN_SLOTS batches are
 * queued; submitting more, or ke_plan_run while any is queued, fails with
 * KE_ERR_INVALID_ARG. On a device backend with copy queues (CUDA) the
 * copy of batch k+1's inputs into its own device buffers (from pinned
 * staging, on a copy stream) overlaps the compute of batch k; outputs come
 * back through pinned staging. On the CPU, submit runs the batch at once
 * into plan-owned staging (allocated on first use) and wait copies it out,
 * so callers can use one code path. ke_plan_run is submit + wait on device
 * backends. A failed submit queues nothing; a failed wait consumes its
 * batch. The plan's run thread only.
 *
 * A caller overlaps by keeping one batch in flight:
 *   submit(b0); loop { fill b(k+1); submit(b(k+1)); wait(out k); deliver k }
 *   wait(last).  */
#define KE_PLAN_SLOTS 2
ke_status_t ke_plan_submit(ke_plan_t *p, int n_rows, const void *const *inputs, char *err,
                           size_t errsz);
ke_status_t ke_plan_wait(ke_plan_t *p, void *const *outputs, int *n_rows, char *err, size_t errsz);
int ke_plan_pending(const ke_plan_t *p); /* batches submitted and not yet waited */
/* 1 when ke_plan_submit returns before the batch has run (a device backend
 * with copy queues: keeping one batch in flight overlaps the next batch's
 * input copy with this one's compute); 0 when submit runs the batch at once
 * (the CPU, device backends without async hooks), where keeping a batch in
 * flight only delays its results. Any thread. */
int ke_plan_async(const ke_plan_t *p);

/* A plain GEMM on a device's BLAS (cpu: OpenBLAS sgemm; cuda: cuBLAS sgemm,
 * or GemmEx for fp16/bf16 operands), C[m,n] = A[m,k] B[k,n] row-major, for
 * benchmarks: *sec is the mean wall time of one GEMM over `iters` after a
 * warm-up; name gets the device's name. Loading thread. */
ke_status_t ke_bench_gemm(const char *device, ke_precision_t precision, int m, int n, int k,
                          int iters, double *sec, char *name, size_t name_size, char *err,
                          size_t errsz);

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
