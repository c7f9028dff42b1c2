/* kf_batch_size: see kf_batch_size.h. Sums in long double: free + held
 * near SIZE_MAX must not wrap. */
#include "kf_batch_size.h"

size_t kf_batch_rows_for_device(size_t free_bytes, size_t held_bytes, size_t fixed_bytes,
                                size_t per_row_bytes, int percent, size_t cap) {
    if (percent < 1)
        percent = 1;
    if (percent > 100)
        percent = 100;
    long double usable = ((long double)free_bytes + (long double)held_bytes) * percent / 100.0L;
    long double left = usable - (long double)fixed_bytes;
    long double rows;
    if (per_row_bytes == 0)
        rows = cap ? (long double)cap : 1.0L;
    else
        rows = left > 0 ? left / (long double)per_row_bytes : 0.0L;
    if (cap && rows > (long double)cap)
        rows = (long double)cap;
    if (rows > (long double)(1u << 30)) /* no batch is this large: keep the size_t cast sane */
        rows = (long double)(1u << 30);
    size_t n = (size_t)rows;
    return n ? n : 1;
}
