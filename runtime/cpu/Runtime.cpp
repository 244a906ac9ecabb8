//===- Runtime.cpp - the irmb runtime C API -------------------------------===//
//
// Implements irmb.h over a dlopen'ed model .so (ModelAbi.h): checks the ABI
// version, opens a model instance (a CUDA model's stream, device memory and
// graph live there), owns a CPU model's arena, and keeps per-kernel timing
// counters.
//
//===----------------------------------------------------------------------===//
#include "irmb/ModelAbi.h"
#include "irmb/irmb.h"

#include <algorithm>
#include <cstdlib>
#include <dlfcn.h>
#include <sys/mman.h>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

thread_local std::string lastError;

int fail(const std::string &message) {
  lastError = message;
  return -1;
}

/// A CPU model's arena: 64-byte aligned, and an arena of 2 MiB or more on
/// 2 MiB boundaries with transparent huge pages asked for (madvise; only a
/// hint, ignored where the kernel says no). The GEMMs read their B operand
/// where it lies, each tap's row in another channel plane: with 4 KiB
/// pages a panel touches more pages than the first-level TLB holds (1.02–
/// 1.03× on yolov10n and yolo11n-iEMA, Xeon of docs/benchmarks.md).
void *allocateArena(size_t bytes) {
  constexpr size_t kHuge = size_t(2) << 20;
  if (bytes < kHuge)
    return std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
  void *arena = std::aligned_alloc(kHuge, rounded);
#ifdef MADV_HUGEPAGE
  if (arena)
    madvise(arena, rounded, MADV_HUGEPAGE);
#endif
  return arena;
}

} // namespace

struct irmb_model {
  void *handle = nullptr;
  const irmb_model_desc *desc = nullptr;
  void (*setThreads)(int) = nullptr;
  int (*run)(void *, const float *, float *, void *, double *, int *) = nullptr;
  void (*close)(void *) = nullptr;
  const char *(*error)(void) = nullptr;
  void *state = nullptr;
  void *arena = nullptr;
  int threads = 1;
  bool profiling = false;
  std::vector<double> kernelMs;
  int64_t runs = 0;
  /// The first kernel whose result held a NaN or an infinity in the last
  /// profiled run (-1: none, or no profiled run yet).
  int firstNonFinite = -1;
  /// Serialises the calls that use the instance's arena, state and
  /// counters: one instance runs one forward at a time, whichever threads
  /// call it (irmb.h, "Threads").
  std::mutex mutex;
};

extern "C" {

const char *irmb_last_error(void) { return lastError.c_str(); }

void irmb_set_last_error(const char *message) {
  lastError = message ? message : "";
}

irmb_model *irmb_create(const char *path) {
  // RTLD_NODELETE: the model's OpenMP worker threads outlive irmb_destroy,
  // so its code (and libgomp) must never be unmapped.
  // A bare file name means the file here, not a library-path search.
  std::string file = std::string(path).find('/') == std::string::npos
                         ? "./" + std::string(path)
                         : std::string(path);
  void *handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!handle) {
    fail(std::string("cannot load the model: ") + dlerror());
    return nullptr;
  }
  auto describe = reinterpret_cast<const irmb_model_desc *(*)(void)>(
      dlsym(handle, "irmb_model_describe"));
  auto *model = new irmb_model;
  model->handle = handle;
  model->setThreads =
      reinterpret_cast<void (*)(int)>(dlsym(handle, "irmb_model_set_threads"));
  model->run =
      reinterpret_cast<int (*)(void *, const float *, float *, void *,
                               double *, int *)>(
          dlsym(handle, "irmb_model_run"));
  auto open =
      reinterpret_cast<int (*)(void **)>(dlsym(handle, "irmb_model_open"));
  model->close =
      reinterpret_cast<void (*)(void *)>(dlsym(handle, "irmb_model_close"));
  model->error = reinterpret_cast<const char *(*)(void)>(
      dlsym(handle, "irmb_model_error"));
  if (!describe || !model->setThreads || !model->run || !open ||
      !model->close || !model->error) {
    irmb_destroy(model);
    fail(std::string(path) + " is not an irmb model (missing entry points)");
    return nullptr;
  }
  model->desc = describe();
  if (model->desc->abi_version != IRMB_MODEL_ABI_VERSION) {
    int version = model->desc->abi_version;
    irmb_destroy(model);
    fail(std::string(path) + " was compiled for model ABI " +
         std::to_string(version) + ", this runtime speaks " +
         std::to_string(IRMB_MODEL_ABI_VERSION) + "; recompile it");
    return nullptr;
  }
  if (std::string(model->desc->target) == "cpu") {
    size_t bytes = static_cast<size_t>(model->desc->arena_bytes + 64);
    model->arena = allocateArena(bytes);
    if (!model->arena) {
      irmb_destroy(model);
      fail("cannot allocate the " + std::to_string(bytes) + "-byte arena");
      return nullptr;
    }
  }
  if (open(&model->state) != 0) {
    std::string why = model->error();
    irmb_destroy(model);
    fail(std::string(path) + ": " + why);
    return nullptr;
  }
  model->kernelMs.assign(model->desc->num_kernels, 0.0);
  irmb_set_threads(model, std::max(1u, std::thread::hardware_concurrency()));
  return model;
}

void irmb_destroy(irmb_model *model) {
  if (!model)
    return;
  if (model->state)
    model->close(model->state);
  std::free(model->arena);
  if (model->handle)
    dlclose(model->handle);
  delete model;
}

int irmb_get_info(const irmb_model *model, irmb_info *info) {
  if (!model || !info)
    return fail("irmb_get_info: null argument");
  const irmb_model_desc *d = model->desc;
  std::copy(d->input_shape, d->input_shape + 4, info->input_shape);
  std::copy(d->output_shape, d->output_shape + 3, info->output_shape);
  info->num_classes = d->num_classes;
  info->is_v10 = d->is_v10;
  info->arena_bytes = d->arena_bytes;
  info->num_kernels = d->num_kernels;
  info->threads = model->threads;
  info->isa = d->isa;
  info->target = d->target;
  info->precision = d->precision;
  info->launches = d->launches;
  info->source = d->source;
  return 0;
}

int irmb_set_threads(irmb_model *model, int threads) {
  if (!model || threads < 1)
    return fail("irmb_set_threads: need a model and threads >= 1");
  std::lock_guard<std::mutex> lock(model->mutex);
  model->threads = threads;
  model->setThreads(threads);
  return 0;
}

int irmb_run(irmb_model *model, const float *input, float *raw_output) {
  if (!model || !input || !raw_output)
    return fail("irmb_run: null argument");
  std::lock_guard<std::mutex> lock(model->mutex);
  // OpenMP's thread count is a per-thread setting: apply this instance's
  // in the thread that runs it.
  model->setThreads(model->threads);
  model->firstNonFinite = -1;
  if (model->run(model->state, input, raw_output, model->arena,
                 model->profiling ? model->kernelMs.data() : nullptr,
                 model->profiling ? &model->firstNonFinite : nullptr) != 0)
    return fail(model->error());
  if (model->profiling)
    ++model->runs;
  return 0;
}

int irmb_enable_profiling(irmb_model *model, int enable) {
  if (!model)
    return fail("irmb_enable_profiling: null model");
  std::lock_guard<std::mutex> lock(model->mutex);
  model->profiling = enable != 0;
  std::fill(model->kernelMs.begin(), model->kernelMs.end(), 0.0);
  model->runs = 0;
  model->firstNonFinite = -1;
  return 0;
}

int irmb_first_nonfinite_kernel(irmb_model *model) {
  if (!model)
    return fail("irmb_first_nonfinite_kernel: null model");
  std::lock_guard<std::mutex> lock(model->mutex);
  return model->firstNonFinite;
}

int irmb_kernel_profile(const irmb_model *model, int index, const char **name,
                        int *layer, int64_t *runs, double *total_ms) {
  if (!model || index < 0 || index >= model->desc->num_kernels)
    return fail("irmb_kernel_profile: no such kernel");
  *name = model->desc->kernel_names[index];
  *layer = model->desc->kernel_layers[index];
  *runs = model->runs;
  *total_ms = model->kernelMs[index];
  return 0;
}

double irmb_kernel_flops(const irmb_model *model, int index) {
  if (!model || index < 0 || index >= model->desc->num_kernels) {
    fail("irmb_kernel_flops: no such kernel");
    return -1;
  }
  return model->desc->kernel_flops[index];
}

const char *irmb_class_name(const irmb_model *model, int index) {
  if (!model || index < 0 || index >= model->desc->num_classes) {
    fail("irmb_class_name: no such class");
    return nullptr;
  }
  return model->desc->class_names[index];
}

} // extern "C"
