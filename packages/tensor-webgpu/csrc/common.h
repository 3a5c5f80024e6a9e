// Shared helpers of the WebAssembly kernels: freestanding C (no libc), 128-bit SIMD, one argument
// block per call (generated/programs.h), and the thread partition every kernel uses.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <wasm_simd128.h>
#include "generated/programs.h"

#define EXPORT(name) __attribute__((export_name(#name)))
#define INLINE static inline __attribute__((always_inline))

// The [begin, end) share of `n` items that thread `tid` of `nthreads` takes: contiguous, and the same
// for every call, so a kernel that writes each item from one thread gives the same bits whatever the
// thread count.
typedef struct { uint32_t begin, end; } range_t;
INLINE range_t split(uint32_t n, uint32_t tid, uint32_t nthreads) {
  range_t r = { (uint32_t)((uint64_t)n * tid / nthreads), (uint32_t)((uint64_t)n * (tid + 1) / nthreads) };
  return r;
}
