//===- CpuModel.h - the model ABI of a generated CPU model -----*- C++ -*-===//
//
// Included by every model.cpp that irmb-compile --target cpu writes, after
// Kernels.h and ModelAbi.h. Embeds the weights blob (weights.bin, beside
// model.cpp in the build folder) as `irmb_weights`; gives the generated code
// its helpers W() (a pointer into the blob), F() (a float pointer into the
// arena) and IRMB_CALL (one kernel call: timed when profiling, its result
// scanned for non-finite values when asked); and implements the ModelAbi.h
// entry points that are the same for every model (describe, threads,
// error, open, close) around the generated modelDesc(). The including file
// defines the kernel functions, modelDesc() and irmb_model_run, whose
// locals `kernel_ms`, `first_nonfinite` and `images` IRMB_CALL reads.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CPU_KERNELS_CPUMODEL_H
#define IRMB_CODEGEN_CPU_KERNELS_CPUMODEL_H

#include "Kernels.h"
#include "ModelAbi.h"

#include <chrono>
#include <omp.h>

/// The weights blob, 64-byte aligned in .rodata.
extern "C" const char irmb_weights[];
asm(".section .rodata\n.balign 64\n.global irmb_weights\n"
    "irmb_weights:\n.incbin \"weights.bin\"\n.previous\n");

/// The floats at byte `offset` of the weights blob.
static inline const float *W(long offset) {
  return reinterpret_cast<const float *>(irmb_weights + offset);
}

/// The floats at byte `offset` of the arena.
static inline float *F(unsigned char *arena, long offset) {
  return reinterpret_cast<float *>(arena + offset);
}

/// Kernel `index`: runs `call`, timed into kernel_ms[index] when profiling;
/// then, when asked, its result (`floats` per image at `result`, `step`
/// apart, for `images` images) is scanned and the first kernel with a
/// non-finite value recorded in *first_nonfinite.
#define IRMB_CALL(index, call, result, floats, step)                          \
  do {                                                                         \
    if (kernel_ms) {                                                           \
      auto t0 = std::chrono::steady_clock::now();                              \
      call;                                                                    \
      kernel_ms[index] += std::chrono::duration<double, std::milli>(           \
                              std::chrono::steady_clock::now() - t0)           \
                              .count();                                        \
    } else {                                                                   \
      call;                                                                    \
    }                                                                          \
    if (first_nonfinite &&                                                     \
        (*first_nonfinite < 0 || index < *first_nonfinite) &&                  \
        !irmb::kernels::allFinite(result, floats, step, images))               \
      *first_nonfinite = index;                                                \
  } while (0)

/// The model's descriptor (defined by the generated file).
static const irmb_model_desc &modelDesc();

extern "C" const irmb_model_desc *irmb_model_describe(void) {
  return &modelDesc();
}

extern "C" void irmb_model_set_threads(int threads) {
  omp_set_num_threads(threads > 0 ? threads : 1);
}

extern "C" const char *irmb_model_error(void) { return ""; }

extern "C" int irmb_model_open(void **state) {
  *state = nullptr;
  return 0;
}

extern "C" void irmb_model_close(void *) {}

#endif // IRMB_CODEGEN_CPU_KERNELS_CPUMODEL_H
