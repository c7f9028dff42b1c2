/* libFuzzer target for the ONNX loader: any bytes -> ke_model_load_buffer
 * (import, shape inference, folding, passes) and, when that succeeds, a
 * plan at batch 2 and one run on zeroed inputs. Must never crash, leak or
 * hang; errors are fine. */
#include <stdint.h>
#include <stdlib.h>

#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[512];
    ke_load_params_t lp = ke_load_default_params();
    lp.max_model_bytes = (size_t)1 << 24;
    ke_model_t *m = ke_model_load_buffer(data, size, &lp, err, sizeof err);
    if (!m)
        return 0;
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = 2;
    pp.n_threads = 1;
    ke_plan_t *p = ke_plan_new(m, &pp, err, sizeof err);
    if (p) {
        int ni = ke_model_num_inputs(m), no = ke_model_num_outputs(m);
        void **ins = calloc((size_t)ni + 1, sizeof *ins);
        void **outs = calloc((size_t)no + 1, sizeof *outs);
        int ok = ins && outs;
        size_t total = 0;
        for (int i = 0; ok && i < ni; i++) {
            ke_io_info_t io;
            ke_model_input(m, i, &io);
            size_t b = io.row_bytes * 2;
            total += b;
            ins[i] = total < ((size_t)1 << 26) ? calloc(1, b + 1) : NULL;
            ok = ins[i] != NULL;
        }
        for (int i = 0; ok && i < no; i++) {
            ke_tensor_t d;
            ke_plan_output_desc(p, i, 2, &d);
            size_t b = ke_tensor_nbytes(&d);
            total += b;
            outs[i] = total < ((size_t)1 << 26) ? malloc(b + 1) : NULL;
            ok = outs[i] != NULL;
        }
        if (ok)
            (void)ke_plan_run(p, 2, (const void *const *)ins, outs, err, sizeof err);
        for (int i = 0; ins && i < ni; i++)
            free(ins[i]);
        for (int i = 0; outs && i < no; i++)
            free(outs[i]);
        free(ins);
        free(outs);
    }
    ke_plan_free(p);
    ke_model_free(m);
    return 0;
}
