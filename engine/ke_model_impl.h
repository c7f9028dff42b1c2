/* ke_model internals shared by ke_model.c and ke_plan.c (not public). */
#ifndef KE_MODEL_IMPL_H
#define KE_MODEL_IMPL_H

#include "engine.h"
#include "ke_graph.h"

struct ke_model {
    ke_graph_t *g;
};

#endif
