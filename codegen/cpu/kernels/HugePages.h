//===- HugePages.h - kernel scratch buffers on 2 MiB pages ---------*- C++ -*-===//
//
// The per-thread scratch of the direct convolution (its row copy and row
// sums) and of Winograd's bands (transformed input V and GEMM results M)
// is read and written with strides of kilobytes: a band's 36 positions lie
// tens of KiB apart, the row copy is CI·3 rows of the input. On 4 KiB pages
// those strides touch more pages than the first-level TLB holds.
// HugePageAllocator gives a buffer of at least kHugePageMinBytes whole
// 2 MiB pages, 2 MiB aligned, and asks the kernel for transparent huge
// pages (madvise: the Linux default mode only backs regions that ask);
// smaller buffers come from operator new as before. threadScratch is one
// such buffer per thread, which both kernels share, so a thread holds one
// huge page or two, not one per kernel. The model's arena gets the same
// treatment from the runtime (runtime/cpu/Runtime.cpp). Measured on the
// model-167 Xeon (docs/design-notes.md, session 23): the five models
// 1.02–1.05 at 1 and 2 threads, bit-identical; the GEMM's packing buffers
// on huge pages measured 1.00 and keep small pages.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CPU_KERNELS_HUGEPAGES_H
#define IRMB_CODEGEN_CPU_KERNELS_HUGEPAGES_H

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace irmb::kernels {

/// Buffers of at least this many bytes go on 2 MiB pages.
constexpr std::size_t kHugePageMinBytes = std::size_t(128) << 10;
/// The huge page size asked for.
constexpr std::size_t kHugePageBytes = std::size_t(2) << 20;

/// A std::allocator that puts buffers of kHugePageMinBytes or more on whole,
/// aligned 2 MiB pages with transparent huge pages asked for, and smaller
/// ones where operator new puts them. Stateless: all instances are equal.
template <typename T> struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U> HugePageAllocator(const HugePageAllocator<U> &) {}

  T *allocate(std::size_t n) {
    if (n > (static_cast<std::size_t>(-1) - kHugePageBytes) / sizeof(T))
      throw std::bad_alloc();
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePageMinBytes)
      return static_cast<T *>(::operator new(bytes));
    const std::size_t rounded =
        (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
    void *p = std::aligned_alloc(kHugePageBytes, rounded);
    if (!p)
      throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    // Only a request: without transparent huge pages the buffer works on
    // small pages as before.
    madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return static_cast<T *>(p);
  }

  void deallocate(T *p, std::size_t n) {
    if (n * sizeof(T) < kHugePageMinBytes)
      ::operator delete(p);
    else
      std::free(p);
  }

  template <typename U> bool operator==(const HugePageAllocator<U> &) const {
    return true;
  }
  template <typename U> bool operator!=(const HugePageAllocator<U> &) const {
    return false;
  }
};

/// A vector whose storage comes from HugePageAllocator.
template <typename T> using HugeVector = std::vector<T, HugePageAllocator<T>>;

/// The calling thread's scratch, at least `floats` long, on 2 MiB pages
/// once it is large: one buffer per thread (per model library), shared by
/// the kernels that take it (the direct convolution's row copy and row
/// sums, a Winograd band's V and M), which never run inside each other.
/// Its contents are undefined: each kernel writes what it reads. Growing it
/// does not copy or zero the old buffer.
inline float *threadScratch(std::size_t floats) {
  thread_local HugeVector<float> store;
  if (store.size() < floats) {
    HugeVector<float>().swap(store);
    store.resize(floats);
  }
  return store.data();
}

} // namespace irmb::kernels

#endif // IRMB_CODEGEN_CPU_KERNELS_HUGEPAGES_H
