/* ke_graph: the engine's internal graph IR (not public; engine.h is).
 *
 * Values are tensors named by index; nodes refer to them by index (-1 for an
 * omitted optional input/output). Nodes are kept in topological order. Each
 * value carries its dtype and an affine shape in the batch size B:
 * dim[i] = dim_a[i] * B + dim_c[i] (dim_a all 0 for batch-free values).
 * Everything is owned by the graph; one thread at a time. */
#ifndef KE_GRAPH_H
#define KE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "ke_op.h"
#include "ke_tensor.h"

typedef enum ke_val_kind {
    KE_VAL_RUNTIME = 0, /* computed by a node at run time */
    KE_VAL_INPUT,       /* graph input */
    KE_VAL_CONST,       /* initializer or folded constant: t.data owned */
    KE_VAL_AFFINE       /* integer value known at load, affine in B: recomputed per batch */
} ke_val_kind_t;

typedef struct ke_value {
    char *name;
    ke_val_kind_t kind;
    ke_tensor_t t; /* dtype, shape at B=1 (or fixed), data if CONST */
    int64_t dim_a[KE_MAX_RANK];
    int64_t dim_c[KE_MAX_RANK];
    int64_t *aff_a, *aff_c; /* AFFINE: element k = aff_a[k]*B + aff_c[k] */
    int producer;           /* node index or -1 */
    int is_output;          /* graph output */
} ke_value_t;

typedef struct ke_node {
    char *name;
    char *op_type;
    char *domain;
    int opset;
    int n_in, n_out;
    int *in, *out;
    ke_attr_t *attrs;
    int n_attrs, cap_attrs;
    ke_attrs_t attrset; /* points at attrs (kept in sync) */
    const ke_op_def_t *def;
    int folded; /* evaluated at load: not run */
    int dead;   /* removed by a pass */
} ke_node_t;

typedef struct ke_graph {
    ke_value_t *vals;
    int n_vals, cap_vals;
    ke_node_t *nodes;
    int n_nodes, cap_nodes;
    int *inputs, n_inputs;   /* value ids */
    int *outputs, n_outputs; /* value ids */
    int opset;               /* ai.onnx opset */
    int has_batch;
    const ke_op_def_t *ops; /* op table in use */
    size_t n_ops;
} ke_graph_t;

ke_graph_t *ke_graph_new(void);
void ke_graph_free(ke_graph_t *g);
/* Add a value; returns its index or -1 (out of memory). name is copied. */
int ke_graph_add_value(ke_graph_t *g, const char *name);
/* Add a node with n_in/n_out slots (set to -1); returns index or -1. */
int ke_graph_add_node(ke_graph_t *g, const char *name, const char *op_type, const char *domain,
                      int n_in, int n_out);
/* Append an attribute to node ni (name copied, arrays copied; the tensor is
 * adopted: the graph releases it). Returns KE_OK or KE_ERR_NOMEM. */
ke_status_t ke_graph_node_set_attr(ke_graph_t *g, int ni, const ke_attr_t *a, ke_tensor_t *adopt);
/* Turn node ni into another op in place: new op type (domain ""), opset,
 * inputs (copied), attributes dropped, def looked up with
 * KE_OPSET_INTERNAL. Outputs are kept. KE_ERR_UNSUPPORTED when the op
 * table has no row. */
ke_status_t ke_graph_node_rewrite(ke_graph_t *g, int ni, const char *op_type, int opset,
                                  const int *in, int n_in);
/* Add a constant value owning t (t is adopted and zeroed); -1 on failure. */
int ke_graph_add_const(ke_graph_t *g, const char *name, ke_tensor_t *t);
/* Node's info as ops see it. */
void ke_graph_node_info(const ke_graph_t *g, int ni, ke_node_info_t *info);
/* Number of live, not folded nodes reading value v. */
int ke_graph_uses(const ke_graph_t *g, int v);
/* Look an op row up in the graph's table. */
const ke_op_def_t *ke_graph_find_op(const ke_graph_t *g, const char *op_type, const char *domain,
                                    int opset);
/* Shape of value v at batch B (into t: dtype/rank/shape; data untouched). */
void ke_value_shape_at(const ke_value_t *v, int64_t batch, ke_tensor_t *t);

#endif
