/*===- irmb_vision.h - images in, detections out (the irmb_vision C API) -===*
 *
 * Ultralytics' predict pipeline around a loaded model (irmb.h), in a
 * library of its own so the model .so and the core runtime never depend on
 * OpenCV: decode as cv2.imread does (EXIF orientation applied, grey and
 * 4-channel files become 3-channel BGR), LetterBox to the compiled size
 * (auto=False, cv2 INTER_LINEAR, pad 114 split as round(d -/+ 0.1)),
 * BGR->RGB, /255; batches filled up to the compiled batch; v10Detect top-k
 * then score > conf, or non_max_suppression for Detect heads; boxes scaled
 * back to each original image (scale_boxes) and clipped.
 *
 *   irmb_predict_options o; irmb_predict_options_default(&o);
 *   irmb_detections r[2];
 *   const char *files[] = {"bus.jpg", "zidane.jpg"};
 *   if (irmb_predict_files(model, files, 2, &o, r) != 0) ... irmb_last_error()
 *   ... r[i].items[k].x1 ... r[i].items[k].cls ...
 *   irmb_detections_free(r, 2);
 *
 * Functions returning int return 0, or -1 with irmb_last_error() naming the
 * file and what is wrong.
 *
 *===----------------------------------------------------------------------===*/
#ifndef IRMB_IRMB_VISION_H
#define IRMB_IRMB_VISION_H

#include "irmb/irmb.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One detection in original-image pixels. */
typedef struct irmb_detection {
  float x1, y1, x2, y2;
  float conf;
  int cls;
} irmb_detection;

/** The detections of one image, best first (Ultralytics' order). */
typedef struct irmb_detections {
  int64_t orig_height, orig_width; /**< the decoded image */
  int64_t count;
  irmb_detection *items; /**< count entries, freed by irmb_detections_free */
} irmb_detections;

/** Prediction settings (Ultralytics' names and defaults). */
typedef struct irmb_predict_options {
  float conf;  /**< score threshold, default 0.25 */
  double iou;  /**< NMS IoU threshold (Detect heads), default 0.7 */
  int max_det; /**< at most this many detections per image, default 300 */
} irmb_predict_options;

/** A BGR uint8 image of height x width pixels, rows `row_bytes` apart. */
typedef struct irmb_image {
  const uint8_t *data;
  int64_t height, width, row_bytes;
} irmb_image;

/** Fills the defaults: conf 0.25, iou 0.7, max_det 300. */
void irmb_predict_options_default(irmb_predict_options *options);

/** Predicts on `count` images; results[i] receives image i's detections. */
int irmb_predict_images(irmb_model *model, const irmb_image *images,
                        int64_t count, const irmb_predict_options *options,
                        irmb_detections *results);

/** Decodes `count` image files (cv2.imread) and predicts on them. */
int irmb_predict_files(irmb_model *model, const char *const *paths,
                       int64_t count, const irmb_predict_options *options,
                       irmb_detections *results);

/** Frees the items of `count` results (and zeroes them). */
void irmb_detections_free(irmb_detections *results, int64_t count);

/** Writes `path` in Ultralytics' save_txt=True save_conf=True format, one
 * line `class cx cy w h conf` per detection, normalised by the original
 * size, each number %g. Like Ultralytics, writes no file when there are no
 * detections. With `append` the lines go after the file's (Ultralytics
 * appends when two images of one run share a name); else the file is
 * replaced. Either way it changes whole or not at all. */
int irmb_write_txt(const irmb_detections *result, const char *path,
                   int append);

/** Draws boxes with class names and scores on the image at `image_path`
 * and writes it to `out_path` (format from its extension). `names` holds
 * the model's class names (irmb_class_name order), `num_names` of them. */
int irmb_draw_file(const char *image_path, const irmb_detections *result,
                   const char *const *names, int num_names,
                   const char *out_path);

#ifdef __cplusplus
}
#endif

#endif /* IRMB_IRMB_VISION_H */
