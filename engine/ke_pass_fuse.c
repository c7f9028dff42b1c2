/* ke_pass_fuse: fusion pattern matching (see ke_op.h "Fusion").
 * Today: Gemm/MatMul/Conv followed by an activation that only it feeds ->
 * the producer with "ke_act", only into rows flagged KE_OP_FUSE_ACT. */
#include <string.h>

#include "ke_pass.h"

static int act_code(const ke_node_t *n) {
    if (strcmp(n->op_type, "Relu") == 0) return KE_ACT_RELU;
    if (strcmp(n->op_type, "Sigmoid") == 0) return KE_ACT_SIGMOID;
    if (strcmp(n->op_type, "Tanh") == 0) return KE_ACT_TANH;
    return KE_ACT_NONE;
}

static int fusable_producer(const ke_node_t *p) {
    if (!p->def || !(p->def->flags & KE_OP_FUSE_ACT)) return 0;
    return strcmp(p->op_type, "Gemm") == 0 || strcmp(p->op_type, "MatMul") == 0 ||
           strcmp(p->op_type, "Conv") == 0;
}

ke_status_t ke_pass_fuse(ke_graph_t *g, char *err, size_t errsz) {
    (void)err;
    (void)errsz;
    for (int ni = 0; ni < g->n_nodes; ni++) {
        ke_node_t *a = &g->nodes[ni];
        if (a->dead || a->folded || a->n_in < 1 || a->n_out < 1) continue;
        int code = act_code(a);
        if (code == KE_ACT_NONE) continue;
        int x = a->in[0], y = a->out[0];
        if (x < 0 || y < 0 || g->vals[x].kind != KE_VAL_RUNTIME || g->vals[x].is_output) continue;
        int pi = g->vals[x].producer;
        if (pi < 0) continue;
        ke_node_t *p = &g->nodes[pi];
        if (p->dead || p->folded || !fusable_producer(p) || p->out[0] != x) continue;
        if (ke_attr_find(&p->attrset, "ke_act")) continue;
        if (ke_graph_uses(g, x) != 1) continue;
        ke_attr_t at;
        memset(&at, 0, sizeof at);
        at.name = "ke_act";
        at.type = KE_ATTR_INT;
        at.i = code;
        ke_status_t st = ke_graph_node_set_attr(g, pi, &at, NULL);
        if (st != KE_OK) return st;
        p = &g->nodes[pi];
        /* producer now writes y; x becomes unused */
        p->out[0] = y;
        g->vals[y].producer = pi;
        a->dead = 1;
    }
    return KE_OK;
}
