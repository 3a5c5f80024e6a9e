#include "common.h"

EXPORT(k_fill32) void k_fill32(const struct fill32_args *a, uint32_t tid, uint32_t nthreads) {
  range_t r = split(a->n, tid, nthreads);
  for (uint32_t i = r.begin; i < r.end; i++) a->dst[i] = a->value;
}
