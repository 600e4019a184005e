import TensorCore
import XCTest

/// `BLAS.gemm` (OpenBLAS, split over the cores when large) against the naive triple loop.
final class GEMMTests: XCTestCase {
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

    func testLargeProductsSplitOverTheCoresByRowsAndByColumns() {
        let before = Threads.count
        defer { Threads.configure(before) }
        Threads.configure(2)
        // 2·m·n·k ≥ 2e6 takes the split path: tall C (split by rows) and short wide C (by columns)
        check(m: 200, n: 96, k: 128, transA: false, transB: true, alpha: 1, beta: 0, seed: 7)
        check(m: 8, n: 1000, k: 160, transA: true, transB: false, alpha: 1, beta: 1, seed: 8)
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
