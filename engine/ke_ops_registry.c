/* ke_ops_registry: the operator table (owned by the ops side; this is the
 * engine's placeholder so the engine links before the kernels land).
 * Add one row per op + semantics version; see ke_op.h. */
#include "ke_op.h"

static const ke_op_def_t k_ops[] = {
    {NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

const ke_op_def_t *ke_ops_table(size_t *n) {
    if (n) *n = 0; /* no kernels yet */
    return k_ops;
}
