/*===- ModelAbi.h - the contract between a compiled model and the runtime -===*
 *
 * Every model .so built by irmb-compile exports these three C functions. The
 * runtime (irmb.h) loads a model with dlopen and talks to it only through
 * them. Plain C so the generated code and the runtime cannot drift apart.
 *
 *===----------------------------------------------------------------------===*/
#ifndef IRMB_MODEL_ABI_H
#define IRMB_MODEL_ABI_H

#include <stdint.h>

#define IRMB_MODEL_ABI_VERSION 1

#ifdef __cplusplus
extern "C" {
#endif

/** What a compiled model is: input and output geometry, memory, kernels. */
typedef struct irmb_model_desc {
  int abi_version;
  const char *source;      /**< the model YAML it was compiled from */
  const char *isa;         /**< avx512 | avx2 | native | ... */
  int64_t input_shape[4];  /**< B, C, H, W */
  int64_t output_shape[3]; /**< B, 4 + nc, A */
  int num_classes;
  int is_v10;          /**< 1: v10Detect (top-k post-processing) */
  int64_t arena_bytes; /**< peak working memory of one image */
  int num_kernels;
  const char *const *kernel_names; /**< e.g. "model_23_attention_4" */
  const int *kernel_layers;        /**< YAML layer index of each kernel */
} irmb_model_desc;

/** The model's description (static storage). */
const irmb_model_desc *irmb_model_describe(void);

/** Sets the number of worker threads (>= 1). */
void irmb_model_set_threads(int threads);

/** Runs the whole batch: input [B, C, H, W], output [B, 4 + nc, A], arena of
 * arena_bytes (64-byte aligned). When kernel_ms is not NULL, adds each
 * kernel's wall time in milliseconds to kernel_ms[i]. */
void irmb_model_run(const float *input, float *output, void *arena,
                    double *kernel_ms);

#ifdef __cplusplus
}
#endif

#endif /* IRMB_MODEL_ABI_H */
