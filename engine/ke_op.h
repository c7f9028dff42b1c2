/* ke_op: THE contract between the graph side of the engine and the
 * operator kernels.
 *
 * Each operator is one row of the registry table (ke_op_def_t) returned by
 * ke_ops_table() (defined in engine/ke_ops_registry.c, owned by the ops
 * side). A row gives, for one op type + domain + opset range:
 *
 *  1. infer   (required) shape/dtype inference. Pure: given the node, its
 *             attributes and its input descriptors, fill each output's
 *             dtype/rank/shape. Shapes passed in are CONCRETE: the engine
 *             handles the symbolic batch dim itself (it infers the graph at
 *             two batch sizes and derives dims of the form a*batch + b), so
 *             an op never sees a symbol. infer may be called many times.
 *  2. run     (required) CPU execution into already-allocated outputs
 *             (planner arena). Must not allocate on the hot path (use the
 *             scratch from prepare), must accept any batch <= the planned
 *             one (read shapes from the tensors passed in, never cache them
 *             in state), and must work with x->pool == NULL (serial): the
 *             engine also calls run at load time to fold constants.
 *  3. value_inputs (optional) bit i set = infer needs the VALUES of input i
 *             (Reshape shape, Slice starts/ends/axes/steps, Expand shape,
 *             ConstantOfShape/Range/Tile inputs, Split split, Squeeze/
 *             Unsqueeze axes (opset 13), Resize sizes...). The engine
 *             guarantees in[i]->data is non-NULL for those inputs when infer
 *             is called (it evaluates shape arithmetic at load time), or it
 *             refuses the model, naming the node. For other inputs infer may
 *             see data != NULL (a constant) but must not rely on it.
 *  4. prepare (optional) called once per plan with shapes at the plan's max
 *             batch; parses attributes into a private state (so run never
 *             looks attributes up by name), may pre-pack constant inputs
 *             (in[i]->data != NULL for initializers/folded constants, NULL
 *             otherwise), and reports how many scratch bytes run needs.
 *             free_state releases the state (NULL state never passed).
 *
 * Inputs and outputs are arrays of POINTERS: in[i] == NULL for an omitted
 * optional input (empty name in ONNX) and i >= n_in for trailing omitted
 * ones; same for out (omitted optional outputs are NULL: do not write them).
 *
 * Errors: infer/prepare write a short reason into err (the engine prefixes
 * "node 'NAME' (OP): ") and return KE_ERR_SHAPE for inconsistent shapes,
 * KE_ERR_UNSUPPORTED for unsupported dtypes/attribute values, else another
 * code. run returns KE_OK or writes x->err.
 *
 * Lookup: rows with the same op_type + domain are versioned by
 * since_version; the engine takes the row with the largest since_version
 * <= the model's opset for that domain (domain "" and "ai.onnx" are the
 * same). So Softmax (axis semantics change at 13), Split/Squeeze/Unsqueeze/
 * ReduceSum (attrs -> inputs at 13), Clip (min/max inputs at 11) get one
 * row per semantics. Supported model opsets: 11..17 (ai.onnx).
 *
 * Fusion (emitted by the engine's passes; kernels must honour these):
 *  - Gemm, MatMul, Conv: optional INT attribute "ke_act" (ke_act_t) applied
 *    to the output after the bias; FLOAT "ke_act_alpha" for LEAKY_RELU
 *    (default 0.01).
 *  - MatMul: optional third input "bias" (rank 1, length = last output dim)
 *    added to every output row before ke_act (MatMul + Add fusion).
 *  - Conv + BatchNormalization: folded into Conv's weights/bias by the
 *    engine (no kernel change); Conv + Relu: "ke_act".
 *  - Conv: optional INTS "ke_pool" (one window per spatial dim, 1-D/2-D):
 *    a MaxPool with stride = window, no pads/dilation, floor, applied
 *    after ke_act; the output is the pooled tensor (Conv + MaxPool fusion,
 *    only behind Convs the CPU's direct path takes, ke_conv_pool_ok, and
 *    only with ke_load_params.cpu_fusions: the CUDA kernels lack it).
 *  - Decomposed LayerNorm -> node "LayerNormalization" (domain "", opset 17
 *    semantics: inputs X, Scale, [B]; attrs axis, epsilon; only output 0).
 *  - Decomposed GELU (x*0.5*(1+erf(x/sqrt2))) -> node "Gelu" (domain "",
 *    opset 20 semantics, approximate "none"; register since_version 20).
 *  Engine-created nodes are looked up with opset KE_OPSET_INTERNAL.
 *
 * Threading: the registry table is immutable; infer/prepare/free_state run
 * on the loading thread; run runs on the plan's run thread and may use
 * x->pool (ke_threadpool_parallel_for) for big loops only. */
#ifndef KE_OP_H
#define KE_OP_H

#include <stddef.h>
#include <stdint.h>

#include "ke_tensor.h"
#include "ke_threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KE_OPSET_MIN 11
#define KE_OPSET_MAX 17
#define KE_OPSET_INTERNAL 1000 /* lookups for engine-created nodes */

/* ---- attributes --------------------------------------------------------- */

typedef enum ke_attr_type {
    KE_ATTR_UNDEF = 0,
    KE_ATTR_FLOAT = 1,
    KE_ATTR_INT = 2,
    KE_ATTR_STRING = 3,
    KE_ATTR_TENSOR = 4,
    KE_ATTR_FLOATS = 6,
    KE_ATTR_INTS = 7,
    KE_ATTR_STRINGS = 8
} ke_attr_type_t; /* values = ONNX AttributeProto.AttributeType */

typedef struct ke_attr {
    const char *name;
    ke_attr_type_t type;
    int64_t i;                  /* INT */
    float f;                    /* FLOAT */
    const char *s;              /* STRING (NUL-terminated) */
    const ke_tensor_t *t;       /* TENSOR (owned by the graph) */
    const int64_t *ints;        /* INTS, n entries */
    const float *floats;        /* FLOATS, n entries */
    const char *const *strings; /* STRINGS, n entries */
    int64_t n;
} ke_attr_t;

typedef struct ke_attrs {
    const ke_attr_t *items;
    int n;
} ke_attrs_t;

/* Typed accessors: return the attribute's value, or `def` when it is absent.
 * A present attribute of another type also yields def (and
 * ke_attr_type_of() lets infer refuse it). attrs may be NULL. */
const ke_attr_t *ke_attr_find(const ke_attrs_t *attrs, const char *name);
ke_attr_type_t ke_attr_type_of(const ke_attrs_t *attrs, const char *name);
int64_t ke_attr_int(const ke_attrs_t *attrs, const char *name, int64_t def);
float ke_attr_float(const ke_attrs_t *attrs, const char *name, float def);
const char *ke_attr_string(const ke_attrs_t *attrs, const char *name, const char *def);
/* INTS / FLOATS: *out = the values (borrowed), returns the count; returns -1
 * and *out = NULL when absent. */
int64_t ke_attr_ints(const ke_attrs_t *attrs, const char *name, const int64_t **out);
int64_t ke_attr_floats(const ke_attrs_t *attrs, const char *name, const float **out);
/* TENSOR: borrowed, NULL when absent. */
const ke_tensor_t *ke_attr_tensor(const ke_attrs_t *attrs, const char *name);

/* Fused activation codes for the "ke_act" attribute. */
typedef enum ke_act {
    KE_ACT_NONE = 0,
    KE_ACT_RELU = 1,
    KE_ACT_SIGMOID = 2,
    KE_ACT_TANH = 3,
    KE_ACT_GELU = 4, /* erf form */
    KE_ACT_LEAKY_RELU = 5
} ke_act_t;

/* ---- the node as an op sees it ----------------------------------------- */

typedef struct ke_node_info {
    const char *name; /* node name (may be "") */
    const char *op_type;
    const char *domain; /* "" for ai.onnx */
    int opset;          /* model opset of that domain */
    const ke_attrs_t *attrs;
} ke_node_info_t;

/* Execution context for run. scratch is 64-byte aligned, scratch_bytes as
 * asked by prepare (at max batch), shared by all nodes (valid only during
 * the call). pool may be NULL; n_threads >= 1. */
typedef struct ke_exec_ctx {
    ke_threadpool_t *pool;
    int n_threads;
    void *scratch;
    size_t scratch_bytes;
    char *err;
    size_t errsz;
} ke_exec_ctx_t;

typedef ke_status_t (*ke_op_infer_fn)(const ke_node_info_t *node, const ke_tensor_t *const *in,
                                      int n_in, ke_tensor_t *const *out, int n_out, char *err,
                                      size_t errsz);

typedef ke_status_t (*ke_op_prepare_fn)(const ke_node_info_t *node, const ke_tensor_t *const *in,
                                        int n_in, const ke_tensor_t *const *out, int n_out,
                                        void **state, size_t *scratch_bytes, char *err,
                                        size_t errsz);

typedef void (*ke_op_free_fn)(void *state);

typedef ke_status_t (*ke_op_run_fn)(const ke_node_info_t *node, const void *state,
                                    const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                                    int n_out, ke_exec_ctx_t *x);

/* Row flags. */
enum {
    /* Output 0 is a view of input 0 with a new shape and the same bytes
     * (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout): the planner
     * makes out[0]->data == in[0]->data; run must then be a no-op when the
     * pointers are equal (and copy when they differ). */
    KE_OP_VIEW = 1u << 0,
    /* Output 0 may share input 0's buffer (same dtype and numel) when input
     * 0 dies here: run must handle out[0]->data == in[0]->data. */
    KE_OP_INPLACE = 1u << 1,
    /* The row honours the "ke_act"/"ke_act_alpha" attributes (Gemm,
     * MatMul, Conv) and, for MatMul, the optional bias input: the fusion
     * pass only rewrites into rows that set this. */
    KE_OP_FUSE_ACT = 1u << 2
};

typedef struct ke_op_def {
    const char *op_type;
    const char *domain; /* "" = ai.onnx */
    int since_version;
    uint32_t value_inputs; /* bit i: infer needs values of input i */
    uint32_t flags;        /* KE_OP_* */
    ke_op_infer_fn infer;
    ke_op_prepare_fn prepare; /* optional */
    ke_op_free_fn free_state; /* optional */
    ke_op_run_fn run;
} ke_op_def_t;

/* The registry table (engine/ke_ops_registry.c, ops side). *n = rows.
 * Static storage; any thread. */
const ke_op_def_t *ke_ops_table(size_t *n);

/* Lookup as described above; NULL when no row applies. Any thread. */
const ke_op_def_t *ke_op_find(const char *op_type, const char *domain, int opset);
/* Same lookup in another table (tests plug fakes in through this). */
const ke_op_def_t *ke_op_find_in(const ke_op_def_t *tab, size_t n, const char *op_type,
                                 const char *domain, int opset);

#ifdef __cplusplus
}
#endif

#endif
