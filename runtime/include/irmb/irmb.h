/*===- irmb.h - the irmb runtime C API -------------------------------------===*
 *
 * Loads a model compiled by `irmb-compile -o MODEL.so` and runs it. No
 * LibTorch and no MLIR behind it: dlopen, one 64-byte aligned arena, the
 * model's kernels and the v10 post-processing.
 *
 *   irmb_model *m = irmb_create("model.so");
 *   if (!m) fprintf(stderr, "%s\n", irmb_last_error());
 *   irmb_info info; irmb_get_info(m, &info);
 *   irmb_run(m, input, raw);            // raw: B x (4 + nc) x A floats
 *   irmb_destroy(m);
 *
 * Every function returning int returns 0 on success and -1 on error, with
 * the message in irmb_last_error() (per thread).
 *
 * Threads: every function may be called from any thread. Different
 * instances (of one .so or of several) run concurrently, each with its own
 * arena and thread count. Calls on one instance are serialised by the
 * instance (irmb_run, irmb_set_threads, profiling): sharing one instance
 * between threads is safe but runs one forward at a time; for parallel
 * throughput create one instance per thread. irmb_destroy must not race
 * with other calls on the same instance. irmb_set_threads applies to the
 * instance in whichever thread runs it.
 *
 *===----------------------------------------------------------------------===*/
#ifndef IRMB_IRMB_H
#define IRMB_IRMB_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct irmb_model irmb_model;

/** The geometry and resources of a loaded model. */
typedef struct irmb_info {
  int64_t input_shape[4];  /**< B, C, H, W (float32, RGB in [0, 1]) */
  int64_t output_shape[3]; /**< B, 4 + nc, A (raw predictions) */
  int num_classes;
  int is_v10;          /**< post-process with irmb_postprocess_v10 */
  int64_t arena_bytes; /**< peak working memory (planned, reused) */
  int num_kernels;
  int threads;
  int launches;           /**< kernel launches per forward */
  const char *target;     /**< cpu | cuda */
  const char *precision;  /**< fp32 | fp16 | bf16 */
  const char *isa;
  const char *source;
} irmb_info;

/** The last error of this thread ("" when none). */
const char *irmb_last_error(void);

/** Loads a compiled model; NULL on error. */
irmb_model *irmb_create(const char *path);

/** Frees the model. */
void irmb_destroy(irmb_model *model);

int irmb_get_info(const irmb_model *model, irmb_info *info);

/** Worker threads (default: all hardware threads). */
int irmb_set_threads(irmb_model *model, int threads);

/** Runs the network: `input` holds input_shape floats, `raw_output`
 * receives output_shape floats. A CUDA model takes host or device pointers
 * (device: no copies) and returns when the output is written. */
int irmb_run(irmb_model *model, const float *input, float *raw_output);

/** Turns per-kernel timing on (1) or off (0); resets the counters. */
int irmb_enable_profiling(irmb_model *model, int enable);

/** Kernel `index` (< num_kernels): its name, YAML layer, the number of runs
 * and the total milliseconds since profiling was enabled. */
int irmb_kernel_profile(const irmb_model *model, int index, const char **name,
                        int *layer, int64_t *runs, double *total_ms);

/** While profiling, each run also scans every kernel's result (outside
 * the timed span): the index of the first kernel (in run order) whose
 * result held a NaN or an infinity in the last run, or -1 when none did,
 * profiling is off or nothing ran yet. The model's YAML layer and name are
 * irmb_kernel_profile's. */
int irmb_first_nonfinite_kernel(irmb_model *model);

/** Floating-point operations of kernel `index` per forward (2 per
 * multiply-add of the direct algorithm; 0 for data movement), or -1 for a
 * bad index. */
double irmb_kernel_flops(const irmb_model *model, int index);

/** The name of class `index` (< num_classes), or NULL for a bad index. */
const char *irmb_class_name(const irmb_model *model, int index);

/** YOLOv10 post-processing of raw predictions [batch, 4 + nc, anchors]:
 * writes [batch, min(max_det, anchors), 6] rows x1, y1, x2, y2, score, label
 * (two-stage top-k, ties toward the lower index). */
int irmb_postprocess_v10(const float *raw, int64_t batch, int64_t channels,
                         int64_t anchors, int64_t max_det, float *out);

/** Ultralytics' non_max_suppression for Detect heads (YOLOv8, YOLO11,
 * iEMA models) on raw predictions [batch, 4 + nc, anchors]: per image, the
 * best class of each anchor whose score is above `conf`, at most 30000
 * candidates by score, boxes offset by class * 7680, greedy suppression of
 * IoU > `iou` in descending score order (ties to the lower anchor), at most
 * `max_det` kept. Writes rows x1, y1, x2, y2, score, class to
 * out[b * max_det * 6 ...] and the number kept to counts[b]. */
int irmb_postprocess_nms(const float *raw, int64_t batch, int64_t channels,
                         int64_t anchors, float conf, double iou,
                         int64_t max_det, float *out, int64_t *counts);

/** Sets this thread's irmb_last_error() (for companion libraries such as
 * irmb_vision that report through the same channel). */
void irmb_set_last_error(const char *message);

#ifdef __cplusplus
}
#endif

#endif /* IRMB_IRMB_H */
