/* Tiny ONNX model builder for engine tests (protobuf-c, header-only,
 * test code). Models are built in C so the tests need no Python. */
#ifndef KE_TEST_ONNX_BUILD_H
#define KE_TEST_ONNX_BUILD_H

#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

typedef struct {
    Onnx__ModelProto m;
    Onnx__GraphProto g;
    Onnx__OperatorSetIdProto opset;
    Onnx__OperatorSetIdProto *opsets[1];
    Onnx__NodeProto *nodes[64];
    Onnx__TensorProto *inits[64];
    Onnx__ValueInfoProto *ins[16], *outs[16];
    void *allocs[1024];
    int n_allocs;
} tb_model_t;

static inline void *tb_alloc(tb_model_t *b, size_t n) {
    void *p = calloc(1, n);
    b->allocs[b->n_allocs++] = p;
    return p;
}

static inline void tb_init(tb_model_t *b, int opset) {
    memset(b, 0, sizeof *b);
    onnx__model_proto__init(&b->m);
    onnx__graph_proto__init(&b->g);
    onnx__operator_set_id_proto__init(&b->opset);
    b->opset.domain = "";
    b->opset.has_version = 1;
    b->opset.version = opset;
    b->opsets[0] = &b->opset;
    b->m.n_opset_import = 1;
    b->m.opset_import = b->opsets;
    b->m.has_ir_version = 1;
    b->m.ir_version = 8;
    b->m.graph = &b->g;
    b->g.name = "g";
    b->g.node = b->nodes;
    b->g.initializer = b->inits;
    b->g.input = b->ins;
    b->g.output = b->outs;
}

/* dims: -1 = symbolic batch */
static inline Onnx__ValueInfoProto *tb_vi(tb_model_t *b, const char *name, int elem, int rank,
                                          const int64_t *dims) {
    Onnx__ValueInfoProto *vi = tb_alloc(b, sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = (char *)name;
    Onnx__TypeProto *tp = tb_alloc(b, sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = tb_alloc(b, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = elem;
    Onnx__TensorShapeProto *sp = tb_alloc(b, sizeof *sp);
    onnx__tensor_shape_proto__init(sp);
    Onnx__TensorShapeProto__Dimension **dd = tb_alloc(b, sizeof(void *) * (size_t)(rank + 1));
    for (int i = 0; i < rank; i++) {
        dd[i] = tb_alloc(b, sizeof **dd);
        onnx__tensor_shape_proto__dimension__init(dd[i]);
        if (dims[i] < 0) {
            dd[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dd[i]->dim_param = "N";
        } else {
            dd[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dd[i]->dim_value = dims[i];
        }
    }
    sp->n_dim = (size_t)rank;
    sp->dim = dd;
    tt->shape = sp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->type = tp;
    return vi;
}

static inline void tb_input(tb_model_t *b, const char *name, int elem, int rank,
                            const int64_t *dims) {
    b->ins[b->g.n_input++] = tb_vi(b, name, elem, rank, dims);
}

static inline void tb_output(tb_model_t *b, const char *name) {
    Onnx__ValueInfoProto *vi = tb_alloc(b, sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = (char *)name;
    b->outs[b->g.n_output++] = vi;
}

static inline Onnx__TensorProto *tb_tensor(tb_model_t *b, const char *name, int elem, int rank,
                                           const int64_t *dims, const void *data, size_t nbytes) {
    Onnx__TensorProto *t = tb_alloc(b, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = elem;
    t->n_dims = (size_t)rank;
    t->dims = tb_alloc(b, sizeof(int64_t) * (size_t)(rank + 1));
    if (rank > 0)
        memcpy(t->dims, dims, sizeof(int64_t) * (size_t)rank);
    t->has_raw_data = 1;
    t->raw_data.len = nbytes;
    t->raw_data.data = tb_alloc(b, nbytes + 1);
    memcpy(t->raw_data.data, data, nbytes);
    return t;
}

static inline Onnx__TensorProto *tb_init_f32(tb_model_t *b, const char *name, int rank,
                                             const int64_t *dims, const float *data, size_t n) {
    Onnx__TensorProto *t = tb_tensor(b, name, 1, rank, dims, data, n * sizeof(float));
    b->inits[b->g.n_initializer++] = t;
    return t;
}

static inline Onnx__TensorProto *tb_init_i64(tb_model_t *b, const char *name, int rank,
                                             const int64_t *dims, const int64_t *data, size_t n) {
    Onnx__TensorProto *t = tb_tensor(b, name, 7, rank, dims, data, n * sizeof(int64_t));
    b->inits[b->g.n_initializer++] = t;
    return t;
}

/* ins/outs: NULL-terminated name lists */
static inline Onnx__NodeProto *tb_node(tb_model_t *b, const char *name, const char *op,
                                       const char *const *ins, const char *const *outs) {
    Onnx__NodeProto *n = tb_alloc(b, sizeof *n);
    onnx__node_proto__init(n);
    n->name = (char *)name;
    n->op_type = (char *)op;
    n->domain = "";
    size_t ni = 0, no = 0;
    while (ins && ins[ni])
        ni++;
    while (outs && outs[no])
        no++;
    n->n_input = ni;
    n->input = (char **)ins;
    n->n_output = no;
    n->output = (char **)outs;
    n->attribute = tb_alloc(b, sizeof(void *) * 8);
    b->nodes[b->g.n_node++] = n;
    return n;
}

static inline void tb_attr_int(tb_model_t *b, Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = tb_alloc(b, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
    n->attribute[n->n_attribute++] = a;
}

/* Packs into a malloc'ed buffer (caller frees) and frees the builder. */
static inline unsigned char *tb_pack(tb_model_t *b, size_t *len) {
    *len = onnx__model_proto__get_packed_size(&b->m);
    unsigned char *buf = malloc(*len + 1);
    onnx__model_proto__pack(&b->m, buf);
    for (int i = 0; i < b->n_allocs; i++)
        free(b->allocs[i]);
    b->n_allocs = 0;
    return buf;
}

#endif
