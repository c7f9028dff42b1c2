/* ke_shape: the shape inference driver with a symbolic batch dim, and
 * constant folding.
 *
 * The graph is evaluated node by node at batch 1, 2 and 3 (once when the
 * model has no batch dim) with each op's infer function. Values whose
 * inputs are all known at load time are computed with the op's run
 * function: batch-independent ones become constants (folding), small
 * integer ones that depend on the batch (Shape -> Gather -> Concat ->
 * Reshape arithmetic) become AFFINE values (k*B + c per element) the plan
 * recomputes when the row count changes. Every other value gets an affine
 * shape dim = a*B + c, checked at the third batch size. Inconsistent
 * shapes are refused naming the node and op. Loading thread only. */
#ifndef KE_SHAPE_H
#define KE_SHAPE_H

#include <stddef.h>

#include "ke_graph.h"

/* fold: 1 to fold batch-independent constant subgraphs. Marks folded nodes
 * (node->folded) and sets value kinds, shapes (dim_a/dim_c) and t. */
ke_status_t ke_shape_infer(ke_graph_t *g, int fold, char *err, size_t errsz);

/* Run one node's op on fully allocated tensors (prepare + run + free state,
 * serial). Used for folding by ke_shape and the passes. */
ke_status_t ke_shape_run_node(const ke_graph_t *g, int ni, const ke_tensor_t *const *in, int n_in,
                              ke_tensor_t *const *out, int n_out, char *err, size_t errsz);

/* Dead-node removal: nodes that do not contribute to a graph output (and
 * folded nodes) are marked dead; constants nothing reads any more are
 * freed. Returns the number of nodes removed. */
int ke_pass_dead_nodes(ke_graph_t *g);

#endif
