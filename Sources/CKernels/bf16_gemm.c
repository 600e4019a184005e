// vmae's bf16 GEMM: GotoBLAS/BLIS blocking around a 12×32 AVX512-BF16 micro-kernel.
//
//   for j0 in N by NC:  for k0 in K by KC:  pack B[k0:+KC, j0:+NC] → bf16 pairs, NR-wide panels
//     for i0 in M by MC:  pack A[i0:+MC, k0:+KC] → bf16 pairs, MR-tall panels   (stays in L2)
//       for each NR panel of B (stays in L1):  for each MR panel of A:  micro-kernel → C tile
//
// Packing rounds float32 to bf16 (the same bit rule as BF16.round in Swift: nearest, ties to
// even, NaN kept) and stores each pair of consecutive k as one 32-bit word, low half first:
// the operand order of vdpbf16ps, which does acc[j] += a[2p]·b[2p][j] + a[2p+1]·b[2p+1][j] in
// float32 for 16 lanes j. An odd K is padded with a zero, short panels with zero rows/columns.
#include "vmae_kernels.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define MR VMAE_BF16_MR
#define NR VMAE_BF16_NR
#define KC VMAE_BF16_KC
#define MC VMAE_BF16_MC
#define NC VMAE_BF16_NC
#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// float32 → bf16 bits (scalar), as BF16.round.
static inline uint32_t round_bf16(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    if ((b & 0x7fffffffu) > 0x7f800000u) return (b >> 16) | 0x40u;
    return (b + 0x7fffu + ((b >> 16) & 1u)) >> 16;
}

// 16 lanes of float32 → bf16 bits in the low half of each 32-bit lane.
TARGET static inline __m512i round16(__m512 x) {
    __m512i b = _mm512_castps_si512(x);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(b, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
    __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(b, _mm512_set1_epi32(0x7fffffff)),
                                            _mm512_set1_epi32(0x7f800000));
    return _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(0x40)));
}

// words[p] = bf16(src[2p]) | bf16(src[2p+1]) << 16 for p < 16: 32 consecutive floats along k.
TARGET static inline void pairs16(const float *src, uint32_t *words) {
    __m256i lo = _mm512_cvtepi32_epi16(round16(_mm512_loadu_ps(src)));
    __m256i hi = _mm512_cvtepi32_epi16(round16(_mm512_loadu_ps(src + 16)));
    _mm256_storeu_si256((__m256i *)words, lo);
    _mm256_storeu_si256((__m256i *)(words + 8), hi);
}

// The along-k layout (rows of A without transA, rows of B with transB): `len` values of one row
// starting at k0, written as (len+1)/2 words at out[0], out[stride], …
TARGET static void pack_row_pairs(const float *row, int64_t len, uint32_t *out, int64_t stride) {
    int64_t p = 0, pairs = len / 2;
    uint32_t w[16];
    for (; p + 16 <= pairs; p += 16) {
        pairs16(row + 2 * p, w);
        for (int q = 0; q < 16; q++) out[(p + q) * stride] = w[q];
    }
    for (; p < pairs; p++) out[p * stride] = round_bf16(row[2 * p]) | round_bf16(row[2 * p + 1]) << 16;
    if (len & 1) out[pairs * stride] = round_bf16(row[len - 1]);
}

// The other layout (B without transB, A with transA): rows r0 = X[k][·], r1 = X[k+1][·] (r1 NULL
// past an odd end), `count` consecutive columns into out[0..count), zero up to `width` (≤ count + 16).
TARGET static void pack_col_pairs(const float *r0, const float *r1, int64_t count, uint32_t *out, int width) {
    int64_t j = 0;
    for (; j + 16 <= count; j += 16) {
        __m512i lo = round16(_mm512_loadu_ps(r0 + j));
        __m512i hi = r1 ? round16(_mm512_loadu_ps(r1 + j)) : _mm512_setzero_si512();
        _mm512_storeu_si512(out + j, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
    }
    if (j < width) {                         // the tail: masked loads (no fault past the end), zeros after count
        __mmask16 in = count - j >= 16 ? 0xffff : (__mmask16)((1u << (count - j)) - 1);
        __mmask16 all = width - j >= 16 ? 0xffff : (__mmask16)((1u << (width - j)) - 1);
        __m512i lo = round16(_mm512_maskz_loadu_ps(in, r0 + j));
        __m512i hi = r1 ? round16(_mm512_maskz_loadu_ps(in, r1 + j)) : _mm512_setzero_si512();
        _mm512_mask_storeu_epi32(out + j, all, _mm512_maskz_mov_epi32(in, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16))));
    }
}

// One operand's slice → panels of `width` (MR for A, NR for B) along its other dimension:
// panel[p·width + w] holds k = k0+2p, k0+2p+1 of index first+w. `alongK`: index i's values lie
// contiguous along k at x[i·ld + k] (A without transA, B with transB); else at x[k·ld + i].
// Indices past `count` are zero-filled.
TARGET static void pack_panels(int alongK, const float *x, int64_t ld, int64_t first, int64_t count,
                               int64_t k0, int64_t kc, int width, uint32_t *out) {
    int64_t kcp = (kc + 1) / 2;
    for (int64_t ip = 0; ip < count; ip += width) {
        uint32_t *panel = out + (ip / width) * kcp * width;
        int64_t n = min64(width, count - ip);
        if (alongK) {
            for (int64_t w = 0; w < width; w++) {
                if (w < n) pack_row_pairs(x + (first + ip + w) * ld + k0, kc, panel + w, width);
                else for (int64_t p = 0; p < kcp; p++) panel[p * width + w] = 0;
            }
        } else {
            for (int64_t p = 0; p < kcp; p++) {
                const float *r0 = x + (k0 + 2 * p) * ld + first + ip;
                pack_col_pairs(r0, 2 * p + 1 < kc ? r0 + ld : NULL, n, panel + p * width, width);
            }
        }
    }
}

// C[rows, cols] ← alpha · (A panel · B panel) + (first ? beta · C : C), from the 24 accumulators
// (MR × 2 vectors of 16) straight to C: masked columns past `cols`, rows past `rows` skipped, and
// beta 0 on the first K block never reads C.
TARGET static void micro_kernel(int64_t kcp, const uint32_t *pa, const uint32_t *pb, float *c, int64_t ldc,
                                int64_t rows, int64_t cols, float alpha, float beta, int first) {
    __m512 acc[MR][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) { acc[r][0] = _mm512_setzero_ps(); acc[r][1] = _mm512_setzero_ps(); }
    for (int64_t p = 0; p < kcp; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(pb), b1 = (__m512bh)_mm512_loadu_si512(pb + 16);
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)pa[r]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
        }
        pa += MR;
        pb += NR;
    }
    __mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? 0xffff : cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0;
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(first ? beta : 1.0f);
    int overwrite = first && beta == 0;
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        if (r < rows) {
            float *cr = c + r * ldc;
            __m512 v0 = _mm512_mul_ps(va, acc[r][0]), v1 = _mm512_mul_ps(va, acc[r][1]);
            if (!overwrite) {
                v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), v0);
                v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), v1);
            }
            _mm512_mask_storeu_ps(cr, m0, v0);
            _mm512_mask_storeu_ps(cr + 16, m1, v1);
        }
    }
}

// Packing buffers, one pair per thread, made at their largest (MC·KC and NC·KC bf16 values: 96 KB
// and 2 MB) on the thread's first call and kept for its life.
static _Thread_local uint32_t *buf_a, *buf_b;

static uint32_t *thread_buffer(uint32_t **buf, size_t words) {
    if (!*buf) *buf = aligned_alloc(64, (words * 4 + 63) / 64 * 64);
    return *buf;
}

int vmae_bf16_gemm(int transA, int transB, int64_t m, int64_t n, int64_t k, float alpha,
                   const float *a, int64_t lda, const float *b, int64_t ldb,
                   float beta, float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0) {                            // C = beta·C (beta 0: zeros, C not read)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
        return 0;
    }
    uint32_t *pa = thread_buffer(&buf_a, (size_t)MC * (KC / 2));
    uint32_t *pb = thread_buffer(&buf_b, (size_t)NC * (KC / 2));
    if (!pa || !pb) return 1;
    for (int64_t j0 = 0; j0 < n; j0 += NC) {
        int64_t nc = min64(NC, n - j0);
        for (int64_t k0 = 0; k0 < k; k0 += KC) {
            int64_t kc = min64(KC, k - k0), kcp = (kc + 1) / 2;
            pack_panels(transB, b, ldb, j0, nc, k0, kc, NR, pb);      // B[k0:+kc, j0:+nc]
            for (int64_t i0 = 0; i0 < m; i0 += MC) {
                int64_t mc = min64(MC, m - i0);
                pack_panels(!transA, a, lda, i0, mc, k0, kc, MR, pa);  // A[i0:+mc, k0:+kc]
                for (int64_t jp = 0; jp < nc; jp += NR) {
                    for (int64_t ip = 0; ip < mc; ip += MR) {
                        micro_kernel(kcp, pa + (ip / MR) * kcp * MR, pb + (jp / NR) * kcp * NR,
                                     c + (i0 + ip) * ldc + j0 + jp, ldc, min64(MR, mc - ip),
                                     min64(NR, nc - jp), alpha, beta, k0 == 0);
                    }
                }
            }
        }
    }
    return 0;
}
