/* ke_conv_geom: internal helper shared by the convolution and pooling
 * kernels (ke_ops_conv.c, ke_ops_pool.c): a ke_conv_geom_t padded out to 3
 * spatial dims (missing leading dims are 1, unpadded, stride 1). Pure;
 * any thread. */
#ifndef KE_CONV_GEOM_H
#define KE_CONV_GEOM_H

#include "ke_ops_kern.h"

typedef struct ke_g3 {
    int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
    int64_t isz, osz, ksz;
} ke_g3_t;

static inline void ke_g3_from(const ke_conv_geom_t *g, ke_g3_t *t) {
    int off = 3 - g->nd;
    for (int i = 0; i < 3; i++) {
        int j = i - off;
        t->in[i] = j >= 0 ? g->in[j] : 1;
        t->out[i] = j >= 0 ? g->out[j] : 1;
        t->k[i] = j >= 0 ? g->k[j] : 1;
        t->s[i] = j >= 0 ? g->stride[j] : 1;
        t->d[i] = j >= 0 ? g->dil[j] : 1;
        t->pb[i] = j >= 0 ? g->pad_begin[j] : 0;
        t->pe[i] = j >= 0 ? g->pad_end[j] : 0;
    }
    t->isz = t->in[0] * t->in[1] * t->in[2];
    t->osz = t->out[0] * t->out[1] * t->out[2];
    t->ksz = t->k[0] * t->k[1] * t->k[2];
}

#endif
