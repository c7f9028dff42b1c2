/* ke_onnx: ONNX protobuf -> ke_graph import (protobuf-c, onnx.proto from
 * libonnx-dev). Checks structure only (opset range, known ops, names,
 * tensor payloads); shapes are checked afterwards by ke_shape.
 * Refuses: corrupt/truncated bytes, opset outside 11..17, ops missing from
 * the graph's op table, external-data or string tensors, sub-graphs,
 * symbolic dims other than the leading one. Errors name the node and op or
 * the tensor. One thread at a time per graph. */
#ifndef KE_ONNX_H
#define KE_ONNX_H

#include <stddef.h>

#include "ke_graph.h"

/* g must be empty (ke_graph_new) with g->ops/n_ops set (or NULL). */
ke_status_t ke_onnx_import(const void *buf, size_t len, ke_graph_t *g, char *err, size_t errsz);

#endif
