/* kf_batch_size: the largest batch a device's memory allows (the batcher
 * asks the engine for the device's free memory and the plan's sizes; this
 * is the arithmetic, kept apart so it can be tested without a GPU).
 *
 * The plan used to measure holds `held_bytes` of device memory that comes
 * back when it is replaced; so the new plan may use `percent`% of
 * (free_bytes + held_bytes). It needs `fixed_bytes` whatever the batch
 * (weights and their converted copies, the arena's batch-free part) plus
 * `per_row_bytes` per row (activations, the double-buffered input slots).
 * Returns rows in [1, cap] (cap 0: no cap); 1 also when even one row does
 * not fit (the plan will then say so when it allocates). Pure function. */
#ifndef KF_BATCH_SIZE_H
#define KF_BATCH_SIZE_H

#include <stddef.h>

size_t kf_batch_rows_for_device(size_t free_bytes, size_t held_bytes, size_t fixed_bytes,
                                size_t per_row_bytes, int percent, size_t cap);

#endif
