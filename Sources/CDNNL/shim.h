#ifndef VMAE_CDNNL_SHIM_H
#define VMAE_CDNNL_SHIM_H
#include <stdint.h>
// oneDNN's BLAS-like bf16 GEMM (Debian libdnnl 2.6): C[M,N] = alpha·op(A)·op(B) + beta·C, row-major,
// bf16 operands, fp32 accumulation and output. libdnnl exports it (src/common/gemm.cpp,
// extern "C" DNNL_API) but its public dnnl.h does not declare it, so the prototype is here.
// The return value is a dnnl_status_t (0 = dnnl_success, 3 = unimplemented on this CPU).
extern int dnnl_gemm_bf16bf16f32(char transa, char transb, int64_t M, int64_t N, int64_t K, float alpha,
                                 const uint16_t *A, int64_t lda, const uint16_t *B, int64_t ldb,
                                 float beta, float *C, int64_t ldc);
// libdnnl runs on OpenMP (libgomp); vmae splits GEMMs over the cores itself, so each call runs
// on the calling thread only (the thread's own OpenMP setting), like OpenBLAS at one thread.
extern void omp_set_num_threads(int n);
static inline int vmae_gemm_bf16(int transA, int transB, int64_t m, int64_t n, int64_t k, float alpha,
                                 const uint16_t *a, int64_t lda, const uint16_t *b, int64_t ldb,
                                 float beta, float *c, int64_t ldc) {
    omp_set_num_threads(1);
    return dnnl_gemm_bf16bf16f32(transA ? 'T' : 'N', transB ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
// oneDNN's fp32 GEMM (public dnnl.h, declared here so the shim needs no dnnl headers): row-major
// C[M,N] = alpha·op(A)·op(B) + beta·C; same status convention. One thread per call, as above.
extern int dnnl_sgemm(char transa, char transb, int64_t M, int64_t N, int64_t K, float alpha,
                      const float *A, int64_t lda, const float *B, int64_t ldb,
                      float beta, float *C, int64_t ldc);
static inline int vmae_sgemm_dnnl(int transA, int transB, int64_t m, int64_t n, int64_t k, float alpha,
                                  const float *a, int64_t lda, const float *b, int64_t ldb,
                                  float beta, float *c, int64_t ldc) {
    omp_set_num_threads(1);
    return dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
#endif
