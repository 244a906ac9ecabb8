/*===- ModelAbi.h - the contract between a compiled model and the runtime -===*
 *
 * Every model .so built by irmb-compile exports these C functions. The
 * runtime (irmb.h) loads a model with dlopen and talks to it only through
 * them. Plain C so the generated code and the runtime cannot drift apart.
 * A CPU model is stateless (the runtime owns its arena); a CUDA model keeps
 * its stream, device arena, weights and CUDA graph in the state that
 * irmb_model_open returns.
 *
 *===----------------------------------------------------------------------===*/
#ifndef IRMB_MODEL_ABI_H
#define IRMB_MODEL_ABI_H

#include <stdint.h>

#define IRMB_MODEL_ABI_VERSION 5

/** The model's exported entry points: a CPU model is built with
 * -fvisibility=hidden (its kernels bind locally, no PLT calls), so the ABI
 * functions are marked visible here. */
#define IRMB_MODEL_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
extern "C" {
#endif

/** What a compiled model is: input and output geometry, memory, kernels. */
typedef struct irmb_model_desc {
  int abi_version;
  const char *source;      /**< the model YAML it was compiled from */
  const char *target;      /**< cpu | cuda */
  const char *isa;         /**< cpu: avx512 | avx2 | native; cuda: sm_80,... */
  const char *precision;   /**< fp32 | fp16 | bf16 */
  int64_t input_shape[4];  /**< B, C, H, W */
  int64_t output_shape[3]; /**< B, 4 + nc, A */
  int num_classes;
  int is_v10;          /**< 1: v10Detect (top-k post-processing) */
  int64_t arena_bytes; /**< cpu: the host arena the runtime allocates (one
                            copy of the per-image arena for each image of a
                            group, --image-group, plus the kernels'
                            scratch);
                            cuda: the device memory of the whole batch the
                            model allocates itself */
  int num_kernels;
  int launches;        /**< kernel launches per forward (the whole batch) */
  const char *const *kernel_names; /**< e.g. "model_23_attention_4" */
  const int *kernel_layers;        /**< YAML layer index of each kernel */
  /** Floating-point operations of each kernel per forward (the whole
   * batch; 2 per multiply-add of the direct algorithm, so a Winograd
   * convolution counts what it replaces; 0 for data movement). */
  const double *kernel_flops;
  /** num_classes class names (a checkpoint's `names`; "0", "1", ... when
   * the model was compiled from a YAML). */
  const char *const *class_names;
} irmb_model_desc;

/** The model's description (static storage). */
IRMB_MODEL_EXPORT const irmb_model_desc *irmb_model_describe(void);

/** The last error of the model's functions on this thread. */
IRMB_MODEL_EXPORT const char *irmb_model_error(void);

/** Makes an instance: 0 and *state (NULL for the CPU), or -1. */
IRMB_MODEL_EXPORT int irmb_model_open(void **state);

/** Frees an instance. */
IRMB_MODEL_EXPORT void irmb_model_close(void *state);

/** Sets the number of worker threads (>= 1; CPU only). */
IRMB_MODEL_EXPORT void irmb_model_set_threads(int threads);

/** Runs the whole batch: input [B, C, H, W], output [B, 4 + nc, A] (CUDA:
 * host or device pointers), arena of arena_bytes (64-byte aligned; CPU
 * only, else NULL). When kernel_ms is not NULL, adds each kernel's time in
 * milliseconds to kernel_ms[i]. When first_nonfinite is not NULL, scans
 * each kernel's result after it ran (outside the timed span) and stores
 * the lowest index of a kernel whose result held a NaN or an infinity, or
 * -1 when none did. Returns 0, or -1 with irmb_model_error(). */
IRMB_MODEL_EXPORT int irmb_model_run(void *state, const float *input, float *output,
                   void *arena, double *kernel_ms, int *first_nonfinite);

#ifdef __cplusplus
}
#endif

#endif /* IRMB_MODEL_ABI_H */
