/* ke_pass: graph rewrites run at load after shape inference/folding.
 * Loading thread only. */
#ifndef KE_PASS_H
#define KE_PASS_H

#include <stddef.h>

#include "ke_graph.h"

/* Fusion: Gemm/MatMul/Conv + activation ("ke_act"), MatMul + bias Add,
 * Conv + BatchNormalization (folded weights); with cpu_only also
 * Transposes around batched MatMuls ("ke_perm_a/b/y") and a constant scale
 * after them ("ke_alpha"), which only the CPU kernels run natively. Only
 * rewrites whose target op row exists in the graph's op table. */
ke_status_t ke_pass_fuse(ke_graph_t *g, int cpu_only, char *err, size_t errsz);

#endif
