@testable import TensorCore
import XCTest

/// `BLAS.gemm` (OpenBLAS or oneDNN by `GEMMBackend`, split over the cores when large) against the
/// naive triple loop.
final class GEMMTests: XCTestCase {
    /// Runs body once with each fp32 backend, then restores the process's own.
    func withEachBackend(_ body: (GEMMBackend) -> Void) {
        let was = BLAS.backend
        defer { BLAS.setBackend(was) }
        for b in [GEMMBackend.openblas, .onednn] {
            BLAS.setBackend(b)
            body(b)
        }
    }

    func random(_ n: Int, _ rng: inout RNG) -> [Float] { (0..<n).map { _ in rng.uniform() * 2 - 1 } }

    func check(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, alpha: Float, beta: Float, seed: UInt64,
               file: StaticString = #filePath, line: UInt = #line) {
        var rng = RNG(seed: seed)
        let a = random(m * k, &rng), b = random(k * n, &rng), c0 = random(m * n, &rng)
        var got = c0, want = c0
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                got.withUnsafeMutableBufferPointer {
                    BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, ap.baseAddress!, bp.baseAddress!,
                              beta: beta, $0.baseAddress!)
                }
                want.withUnsafeMutableBufferPointer {
                    BLAS.naiveGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, ap.baseAddress!, bp.baseAddress!,
                                   beta: beta, $0.baseAddress!)
                }
            }
        }
        let tol = 1e-6 * Float(k) * 4 + 1e-6
        let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tol, "m \(m) n \(n) k \(k) transA \(transA) transB \(transB)", file: file, line: line)
    }

    func testEveryTransposeWithAlphaAndBeta() {
        withEachBackend { _ in
            var seed: UInt64 = 1
            for transA in [false, true] {
                for transB in [false, true] {
                    for (m, n, k) in [(1, 1, 1), (3, 5, 7), (17, 9, 33), (64, 48, 40)] {
                        check(m: m, n: n, k: k, transA: transA, transB: transB, alpha: 1, beta: 0, seed: seed)
                        check(m: m, n: n, k: k, transA: transA, transB: transB, alpha: 0.5, beta: 2, seed: seed + 100)
                        seed += 1
                    }
                }
            }
        }
    }

    func testLargeProductsSplitOverTheCoresByRowsAndByColumns() {
        let before = Threads.count
        defer { Threads.configure(before) }
        Threads.configure(2)
        withEachBackend { _ in
            // 2·m·n·k ≥ 2e6 takes the split path: tall C (split by rows) and short wide C (by columns)
            check(m: 200, n: 96, k: 128, transA: false, transB: true, alpha: 1, beta: 0, seed: 7)
            check(m: 8, n: 1000, k: 160, transA: false, transB: false, alpha: 1, beta: 1, seed: 9)
            check(m: 8, n: 1000, k: 160, transA: true, transB: false, alpha: 1, beta: 1, seed: 8)
        }
    }

    /// oneDNN itself (not a fallback to OpenBLAS) runs every transpose with leading dimensions
    /// wider than the matrices, as the attention kernels call it, and matches the naive loop.
    func testOneDNNRunsStridedProductsItself() {
        var rng = RNG(seed: 21)
        let m = 13, n = 11, k = 9, pad = 5
        for transA in [false, true] {
            for transB in [false, true] {
                let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
                let a = random((transA ? k : m) * lda, &rng), b = random((transB ? n : k) * ldb, &rng)
                var c = random(m * ldc, &rng)
                let c0 = c
                let ok = a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer {
                            BLAS.sgemmDNNL(transA, transB, m, n, k, 0.5, ap.baseAddress!, lda, bp.baseAddress!, ldb, 2, $0.baseAddress!, ldc)
                        }
                    }
                }
                XCTAssertTrue(ok, "oneDNN refused transA \(transA) transB \(transB)")
                for i in 0..<m {
                    for j in 0..<ldc {
                        if j >= n { XCTAssertEqual(c[i * ldc + j], c0[i * ldc + j], "padding column \(j) was written"); continue }
                        var s = 0.0
                        for p in 0..<k {
                            let av = transA ? a[p * lda + i] : a[i * lda + p]
                            let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                            s += Double(av) * Double(bv)
                        }
                        XCTAssertEqual(c[i * ldc + j], Float(0.5 * s + 2 * Double(c0[i * ldc + j])), accuracy: 1e-5,
                                       "transA \(transA) transB \(transB) at (\(i), \(j))")
                    }
                }
            }
        }
    }

    func testBackendComesFromTheEnvironmentAndTheCPU() {
        XCTAssertEqual(GEMMBackend.fromEnvironment([:]).0, .auto)
        XCTAssertEqual(GEMMBackend.fromEnvironment(["VMAE_SGEMM": "OpenBLAS"]).0, .openblas)
        XCTAssertEqual(GEMMBackend.fromEnvironment(["VMAE_SGEMM": "onednn"]).0, .onednn)
        let bad = GEMMBackend.fromEnvironment(["VMAE_SGEMM": "mkl"])
        XCTAssertNil(bad.0)
        XCTAssertEqual(bad.1, "VMAE_SGEMM=mkl is not a GEMM backend (use openblas, onednn or auto)")
        XCTAssertEqual(GEMMBackend.auto.resolved(flags: ["avx2", "avx512f"]), .onednn)
        XCTAssertEqual(GEMMBackend.auto.resolved(flags: ["avx2", "fma"]), .onednn)
        XCTAssertEqual(GEMMBackend.auto.resolved(flags: ["avx2"]), .openblas)
        XCTAssertEqual(GEMMBackend.auto.resolved(flags: ["sse4_2", "avx"]), .openblas)
        XCTAssertEqual(GEMMBackend.openblas.resolved(flags: ["avx512f"]), .openblas)
        XCTAssertEqual(GEMMBackend.onednn.resolved(flags: []), .onednn)
        let was = BLAS.backend
        defer { BLAS.setBackend(was) }
        BLAS.setBackend(.auto)
        XCTAssertNotEqual(BLAS.backend, .auto, "the process's backend is always resolved")
    }

    /// beta = 0 must not read C: a gradient buffer written whole by a GEMM comes from the pool
    /// with a previous tensor's bytes, NaN included (Variable.gradBufferToWrite).
    func testBetaZeroIgnoresGarbageInC() {
        let before = Threads.count
        defer { Threads.configure(before) }
        Threads.configure(2)
        withEachBackend { backend in
            var rng = RNG(seed: 33)
            for transA in [false, true] {
                for (m, n, k) in [(5, 7, 3), (200, 96, 128)] {   // one small product, one split over the cores
                    let a = random(m * k, &rng), b = random(k * n, &rng)
                    var c = [Float](repeating: .nan, count: m * n), want = [Float](repeating: 0, count: m * n)
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            c.withUnsafeMutableBufferPointer {
                                BLAS.gemm(transA: transA, m: m, n: n, k: k, ap.baseAddress!, bp.baseAddress!, beta: 0, $0.baseAddress!)
                            }
                            want.withUnsafeMutableBufferPointer {
                                BLAS.naiveGemm(transA: transA, transB: false, m: m, n: n, k: k, alpha: 1, ap.baseAddress!, bp.baseAddress!,
                                               beta: 0, $0.baseAddress!)
                            }
                        }
                    }
                    let worst = zip(c, want).map { abs($0 - $1) }.max() ?? 0
                    XCTAssertFalse(c.contains { $0.isNaN }, "\(backend) transA \(transA) \(m)x\(n)x\(k): NaN from C leaked")
                    XCTAssertLessThanOrEqual(worst, 1e-4, "\(backend) transA \(transA) \(m)x\(n)x\(k)")
                }
            }
        }
    }

    func testEmptyInnerDimensionScalesCByBeta() {
        var c: [Float] = [1, 2, 3, 4, 5, 6]
        let a: [Float] = [0], b: [Float] = [0]
        c.withUnsafeMutableBufferPointer { BLAS.gemm(m: 2, n: 3, k: 0, a, b, beta: 0.5, $0.baseAddress!) }
        XCTAssertEqual(c, [0.5, 1, 1.5, 2, 2.5, 3])
        c.withUnsafeMutableBufferPointer { BLAS.gemm(m: 2, n: 3, k: 0, a, b, beta: 0, $0.baseAddress!) }
        XCTAssertEqual(c, [0, 0, 0, 0, 0, 0])
    }

    func testBatchedGEMMEqualsOneGEMMPerBatch() {
        var rng = RNG(seed: 5)
        let batch = 3, m = 6, n = 5, k = 4
        let a = random(batch * m * k, &rng), b = random(batch * n * k, &rng)
        var got = [Float](repeating: 0, count: batch * m * n), want = got
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                got.withUnsafeMutableBufferPointer {
                    BLAS.gemmBatched(batch: batch, transB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, strideA: m * k,
                                     b: bp.baseAddress!, ldb: k, strideB: n * k, c: $0.baseAddress!, ldc: n, strideC: m * n)
                }
                want.withUnsafeMutableBufferPointer { cp in
                    for i in 0..<batch {
                        BLAS.naiveGemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, ap.baseAddress! + i * m * k,
                                       bp.baseAddress! + i * n * k, beta: 0, cp.baseAddress! + i * m * n)
                    }
                }
            }
        }
        for i in 0..<got.count { XCTAssertEqual(got[i], want[i], accuracy: 1e-5, "element \(i)") }
    }
}
