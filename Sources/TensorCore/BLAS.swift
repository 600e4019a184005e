import CBLAS
import Dispatch

/// Every matmul in vmae goes through `cblas_sgemm` (row-major), or oneDNN's `dnnl_sgemm` for the
/// products `GEMMBackend` gives it.
public enum BLAS {
    /// C[M,N] = alpha · op(A) · op(B) + beta · C, row-major, with leading dimensions.
    /// op(A) is [M,K] (A stored [M,K], or [K,M] when transA); op(B) is [K,N] (B stored [K,N], or [N,K] when transB).
    /// OpenBLAS runs at one thread; a large GEMM is split here over the cores (rows of C, or
    /// columns when C is short and wide), so no OpenBLAS thread spins while vmae's own kernels
    /// run. Inside a `parallelFor` body it runs on the calling core only.
    /// `oneDNNWithTransposedA`: give oneDNN this transposed-A product too when the backend is
    /// `onednn` (a short, wide dOᵀ·P in the attention backward runs 1.3× faster there).
    @inline(__always)
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                            oneDNNWithTransposedA: Bool = false) {
        if m == 0 || n == 0 { return }
        if k == 0 {  // BLAS leaves C·beta; make that explicit
            if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            else if beta != 1 { for i in 0..<m { let r = c + i * ldc; for j in 0..<n { r[j] *= beta } } }
            return
        }
        let parts = Threads.count
        if parts > 1 && 2 * m * n * k >= 2_000_000 && !insideParallelFor() {
            if m >= 16 * parts || m >= n {
                let rows = ((m + parts - 1) / parts + 7) / 8 * 8
                DispatchQueue.concurrentPerform(iterations: parts) { w in
                    let r0 = w * rows, r1 = min(m, r0 + rows)
                    if r0 < r1 {
                        sgemm(transA, transB, r1 - r0, n, k, alpha, transA ? a + r0 : a + r0 * lda, lda, b, ldb, beta, c + r0 * ldc, ldc,
                              oneDNNWithTransposedA)
                    }
                }
            } else {
                let cols = ((n + parts - 1) / parts + 15) / 16 * 16
                DispatchQueue.concurrentPerform(iterations: parts) { w in
                    let c0 = w * cols, c1 = min(n, c0 + cols)
                    if c0 < c1 {
                        sgemm(transA, transB, m, c1 - c0, k, alpha, a, lda, transB ? b + c0 * ldb : b + c0, ldb, beta, c + c0, ldc,
                              oneDNNWithTransposedA)
                    }
                }
            }
            return
        }
        sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, oneDNNWithTransposedA)
    }

    @inline(__always)
    static func sgemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                      _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                      _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ oneDNNWithTransposedA: Bool = false) {
        if Profiler.isOn { Profiler.addFlops(m, n, k) }
        if (!transA || oneDNNWithTransposedA) && backend == .onednn && sgemmDNNL(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) { return }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Compact form: A, B, C densely packed (lda etc. derived from the transposes).
    @inline(__always)
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                            beta: Float = 0, _ c: UnsafeMutablePointer<Float>) {
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
             a: a, lda: transA ? m : k, b: b, ldb: transB ? k : n, beta: beta, c: c, ldc: n)
    }

    /// Batched strided GEMM: for each i in 0..<batch, C_i = alpha · op(A_i) · op(B_i) + beta · C_i,
    /// with A_i = a + i·strideA etc. Batches are spread over the cores with BLAS at one thread each
    /// when they are small (one small GEMM per core beats each split over two threads).
    public static func gemmBatched(batch: Int, transA: Bool = false, transB: Bool = false,
                                   m: Int, n: Int, k: Int, alpha: Float = 1,
                                   a: UnsafePointer<Float>, lda: Int, strideA: Int,
                                   b: UnsafePointer<Float>, ldb: Int, strideB: Int,
                                   beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int) {
        if batch == 0 { return }
        let flops = 2 * m * n * k
        if batch >= 2 && Threads.count > 1 && flops < 64_000_000 {
            parallelFor(batch, minChunk: 1) { r in
                for i in r {
                    gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                         a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb,
                         beta: beta, c: c + i * strideC, ldc: ldc)
                }
            }
        } else {
            for i in 0..<batch {
                gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                     a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb,
                     beta: beta, c: c + i * strideC, ldc: ldc)
            }
        }
    }

    /// Naive triple loop, kept as the validator of `gemm` in the tests.
    public static func naiveGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                 _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                 beta: Float, _ c: UnsafeMutablePointer<Float>) {
        for i in 0..<m {
            for j in 0..<n {
                var s: Double = 0
                for p in 0..<k {
                    let av = transA ? a[p * m + i] : a[i * k + p]
                    let bv = transB ? b[j * k + p] : b[p * n + j]
                    s += Double(av) * Double(bv)
                }
                c[i * n + j] = alpha * Float(s) + (beta == 0 ? 0 : beta * c[i * n + j])
            }
        }
    }
}
