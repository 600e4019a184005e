#ifndef VMAE_KERNELS_H
#define VMAE_KERNELS_H
#include <stdint.h>

// vmae's bf16 GEMM on AVX512-BF16 (vdpbf16ps), one thread:
//   C[M,N] = alpha · op(A) · op(B) + beta · C      (row-major; beta == 0 never reads C)
// op(A) is A[M,K] (lda ≥ K) or, with transA, the transpose of A[K,M] (lda ≥ M); op(B) likewise
// B[K,N] or the transpose of B[N,K]. A and B are float32, rounded to bf16 (nearest, ties to even,
// NaN kept) while they are packed; products accumulate in float32. Call only on a CPU that
// reports avx512_bf16 (the caller checks /proc/cpuinfo). Returns 0, or 1 when out of memory.
int vmae_bf16_gemm(int transA, int transB, int64_t m, int64_t n, int64_t k, float alpha,
                   const float *a, int64_t lda, const float *b, int64_t ldb,
                   float beta, float *c, int64_t ldc);

// The blocking of vmae_bf16_gemm (for tests that want edge cases on every side of it).
enum { VMAE_BF16_MR = 12, VMAE_BF16_NR = 32, VMAE_BF16_KC = 256, VMAE_BF16_MC = 192, VMAE_BF16_NC = 4096 };
#endif
