/* kk_device: CUDA device discovery (compiled only when KINFER_CUDA). */
#ifndef KK_DEVICE_H
#define KK_DEVICE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Number of usable CUDA devices; 0 when there is no driver or no GPU.
 * Any thread. */
int kk_device_count(void);

#ifdef __cplusplus
}
#endif

#endif
