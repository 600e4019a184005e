import XCTest
import TensorCore
import Autodiff

final class AttentionTests: XCTestCase {
    /// (B, N, heads, hd)
    static let small: [(Int, Int, Int, Int)] = [(2, 7, 3, 5), (1, 1, 2, 4), (2, 1, 1, 3), (1, 9, 1, 1), (2, 13, 2, 12)]
    /// large enough to be split into row and column blocks and run on both cores; N = 530 has
    /// full 512-column blocks of dVᵀ / dKᵀ and a partial one
    static let large: [(Int, Int, Int, Int)] = [(1, 70, 2, 8), (2, 97, 3, 20), (1, 257, 1, 12), (2, 530, 2, 4)]

    static func qkv(_ c: (Int, Int, Int, Int), seed: UInt64, lo: Float = -1, hi: Float = 1) -> Variable {
        randomVar([c.0, c.1, 3 * c.2 * c.3], seed: seed, lo: lo, hi: hi)
    }

    /// Attention written out in double, independent of the library's kernels.
    static func naive(_ qkv: Tensor, heads: Int) -> [Double] {
        let (b, n, d) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3)
        let hd = d / heads, scale = 1 / Double(hd).squareRoot()
        func at(_ bi: Int, _ i: Int, _ col: Int) -> Double { Double(qkv.data[(bi * n + i) * 3 * d + col]) }
        var out = [Double](repeating: 0, count: b * n * d)
        for bi in 0..<b { for h in 0..<heads { for i in 0..<n {
            var s = [Double](repeating: 0, count: n)
            for j in 0..<n { for t in 0..<hd { s[j] += at(bi, i, h * hd + t) * at(bi, j, d + h * hd + t) * scale } }
            let m = s.max()!
            let e = s.map { exp($0 - m) }, z = e.reduce(0, +)
            for t in 0..<hd {
                var o = 0.0
                for j in 0..<n { o += e[j] / z * at(bi, j, 2 * d + h * hd + t) }
                out[(bi * n + i) * d + h * hd + t] = o
            }
        } } }
        return out
    }

    func testForwardMatchesNaive() {
        for (i, c) in (Self.small + Self.large).enumerated() {
            let x = Self.qkv(c, seed: UInt64(i + 1), lo: -2, hi: 2)
            let expect = Self.naive(x.value, heads: c.2)
            let fast = attention(x, heads: c.2)            // recording: probabilities kept
            Tape.clear()
            XCTAssertEqual(fast.shape, [c.0, c.1, c.2 * c.3])
            OpCheck.assertNear(fast.value.array, expect, tol: 1e-5, "attention \(c)")
            let inference = Tape.noGrad { attention(x, heads: c.2) }   // scratch per block
            OpCheck.assertNear(inference.value.array, expect, tol: 1e-5, "attention noGrad \(c)")
            let ref = Tape.noGrad { attentionNaive(x, heads: c.2) }
            OpCheck.assertNear(ref.value.array, expect, tol: 1e-6, "attentionNaive \(c)")
        }
    }

    /// N = 1: every query sees only its own key, so the output is v and q, k get no gradient.
    func testSingleToken() {
        let x = Self.qkv((3, 1, 2, 5), seed: 3)
        let y = attention(x, heads: 2)
        let d = 10
        for bi in 0..<3 { for j in 0..<d { XCTAssertEqual(y.value.data[bi * d + j], x.value.data[bi * 3 * d + 2 * d + j]) } }
        y.backward(seed: Tensor(filled: 1, shape: y.shape))
        for bi in 0..<3 { for j in 0..<2 * d { XCTAssertEqual(x.grad!.data[bi * 3 * d + j], 0, accuracy: 1e-7) } }
    }

    func testGradientsSmall() {
        for (i, c) in Self.small.enumerated() {
            let x = Self.qkv(c, seed: UInt64(i + 20))
            assertGradients([x], samples: 200) { v in attention(v[0], heads: c.2) }
        }
    }

    func testGradientsLarge() {
        for (i, c) in Self.large.enumerated() {
            let x = Self.qkv(c, seed: UInt64(i + 30))
            assertGradients([x], samples: 96) { v in attention(v[0], heads: c.2) }
        }
    }

    /// With sharper attention (larger logits) the softmax Jacobian matters more.
    func testGradientsPeaked() {
        let x = Self.qkv((2, 7, 3, 5), seed: 40, lo: -2.5, hi: 2.5)
        assertGradients([x], samples: 200) { v in attention(v[0], heads: 3) }
    }

    /// The validator is itself checked by finite differences.
    func testNaiveGradients() {
        for (i, c) in [(2, 7, 3, 5), (1, 1, 2, 4), (1, 11, 2, 6)].enumerated() {
            let x = Self.qkv(c, seed: UInt64(i + 50))
            assertGradients([x], samples: 200) { v in attentionNaive(v[0], heads: c.2) }
        }
    }

    /// The fast backward on every element against the naive one (the gradient checks sample).
    func testBackwardMatchesNaive() {
        for (i, c) in (Self.small + Self.large).enumerated() {
            let x = Self.qkv(c, seed: UInt64(i + 60), lo: -2, hi: 2)
            let fast = OpCheck.gradients([x]) { v in attention(v[0], heads: c.2) }
            let ref = OpCheck.gradients([x]) { v in attentionNaive(v[0], heads: c.2) }
            OpCheck.assertNear(fast[0], ref[0].map(Double.init), tol: 1e-5, "dqkv \(c)")
        }
    }

    func testSingleThreadMatches() {
        for c in Self.large {
            let x = Self.qkv(c, seed: 70)
            let many = OpCheck.gradients([x]) { v in attention(v[0], heads: c.2) }
            var one: [[Float]] = []
            OpCheck.withThreads(1) { one = OpCheck.gradients([x]) { v in attention(v[0], heads: c.2) } }
            OpCheck.assertNear(one[0], many[0].map(Double.init), tol: 1e-5, "threads \(c)")
        }
    }

    /// The first backward into qkv writes its fresh gradient buffer whole (no zero-fill): with
    /// the tensor pool full of NaN-filled buffers of that size, the gradient is still exact.
    func testFreshGradientBufferIsOverwrittenWhole() {
        for c in [(2, 7, 3, 5), (2, 530, 2, 4)] {
            let x = Self.qkv(c, seed: 90)
            let want = OpCheck.gradients([x]) { v in attentionNaive(v[0], heads: c.2) }
            do { _ = (0..<4).map { _ in Tensor(filled: .nan, shape: x.shape) } }   // back to the pool, NaN inside
            let got = OpCheck.gradients([x]) { v in attention(v[0], heads: c.2) }
            XCTAssertFalse(got[0].contains { $0.isNaN }, "NaN from a recycled buffer in \(c)")
            OpCheck.assertNear(got[0], want[0].map(Double.init), tol: 1e-5, "fresh dqkv \(c)")
        }
    }

    func testBackwardAccumulates() {
        let x = Self.qkv((2, 7, 3, 5), seed: 80)
        let seed = Tensor(filled: 0.5, shape: [2, 7, 15])
        attention(x, heads: 3).backward(seed: seed)
        let once = x.grad!.array
        attention(x, heads: 3).backward(seed: seed)
        OpCheck.assertNear(x.grad!.array, once.map { 2 * Double($0) }, tol: 1e-6, "accumulated")
    }

    func testShapeErrors() {
        XCTAssertNil(attentionShapeError([2, 7, 45], heads: 3))
        XCTAssertNil(attentionShapeError([1, 1, 3], heads: 1))
        XCTAssertNotNil(attentionShapeError([7, 45], heads: 3))        // rank
        XCTAssertNotNil(attentionShapeError([1, 2, 7, 45], heads: 3))
        XCTAssertNotNil(attentionShapeError([2, 7, 44], heads: 2))     // not 3·D
        XCTAssertNotNil(attentionShapeError([2, 7, 45], heads: 2))     // D = 15 not divisible by 2
        XCTAssertNotNil(attentionShapeError([2, 7, 45], heads: 0))
        XCTAssertNotNil(attentionShapeError([2, 7, 0], heads: 1))
    }
}
