import XCTest
import TensorCore
import Autodiff

final class LayerNormTests: XCTestCase {
    /// PyTorch's layer_norm over the last axis in double (biased variance).
    static func naive(_ x: Tensor, _ w: Tensor, _ b: Tensor, eps: Double) -> [Double] {
        let c = x.shape.last!, rows = x.count / c
        var out = [Double](repeating: 0, count: x.count)
        for r in 0..<rows {
            var m = 0.0
            for j in 0..<c { m += Double(x.data[r * c + j]) }
            m /= Double(c)
            var v = 0.0
            for j in 0..<c { let d = Double(x.data[r * c + j]) - m; v += d * d }
            v /= Double(c)
            let s = 1 / (v + eps).squareRoot()
            for j in 0..<c { out[r * c + j] = (Double(x.data[r * c + j]) - m) * s * Double(w.data[j]) + Double(b.data[j]) }
        }
        return out
    }

    static let shapes: [[Int]] = [[1, 2], [3, 5], [2, 7, 13], [4, 64], [5, 37], [1, 1, 9], [300, 384]]

    func testForwardMatchesNaive() {
        for (i, shape) in Self.shapes.enumerated() {
            let x = OpCheck.spreadRows(shape, seed: UInt64(i + 1))
            let c = shape.last!
            let w = randomVar([c], seed: 100, lo: 0.5, hi: 1.5), b = randomVar([c], seed: 101)
            for eps: Float in [1e-6, 1e-5, 0.1] {
                let y = Tape.noGrad { layerNorm(x, weight: w, bias: b, eps: eps) }
                XCTAssertEqual(y.shape, shape)
                OpCheck.assertNear(y.value.array, Self.naive(x.value, w.value, b.value, eps: Double(eps)), tol: 1e-5, "layerNorm \(shape) eps \(eps)")
            }
        }
    }

    /// Every input of every shape by central differences. The inputs have decent per-row variance
    /// (spread 0.5–2 around offsets up to ±3) so rstd stays moderate; h = 1e-2 then leaves both the
    /// truncation and the float32 rounding error far below the tolerance.
    /// One exception: with C = 2 and a tiny eps the normalized row is (±1, ∓1) whatever x is, so the
    /// true d/dx is ~1e-5, below the checker's 1e-3 floor, and the check would only measure float32
    /// noise; there x is checked with eps = 0.5 (where the gradient is substantial) instead.
    func testGradients() {
        for (i, shape) in Self.shapes.enumerated() {
            let x = OpCheck.spreadRows(shape, seed: UInt64(i + 10))
            let c = shape.last!
            let w = randomVar([c], seed: 200, lo: 0.5, hi: 1.5), b = randomVar([c], seed: 201)
            for eps: Float in [1e-5, 0.5] {
                if c == 2 && eps < 0.1 {
                    assertGradients([w, b]) { v in layerNorm(x, weight: v[0], bias: v[1], eps: eps) }
                } else {
                    assertGradients([x, w, b]) { v in layerNorm(v[0], weight: v[1], bias: v[2], eps: eps) }
                }
            }
        }
    }

    /// Only some inputs need a gradient: the others get none, the rest are still right.
    func testPartialRequiresGrad() {
        let x = OpCheck.spreadRows([4, 9], seed: 3)
        let w = randomVar([9], seed: 4, lo: 0.5, hi: 1.5), b = randomVar([9], seed: 5)
        let wc = Variable(w.value), bc = Variable(b.value), xc = Variable(x.value)
        assertGradients([x]) { v in layerNorm(v[0], weight: wc, bias: bc, eps: 1e-5) }
        assertGradients([w]) { v in layerNorm(xc, weight: v[0], bias: bc, eps: 1e-5) }
        assertGradients([b]) { v in layerNorm(xc, weight: wc, bias: v[0], eps: 1e-5) }
        XCTAssertNil(wc.grad); XCTAssertNil(bc.grad); XCTAssertNil(xc.grad)
    }

    /// The backward against llm.c's formulas evaluated in double on every element (the gradient
    /// check samples 64 per input), including the multi-worker split of dweight/dbias.
    func testGradientsMatchNaiveEverywhere() {
        for shape in [[300, 384], [7, 13], [33, 40]] {
            let x = OpCheck.spreadRows(shape, seed: 5)
            let c = shape.last!, rows = x.count / c
            let w = randomVar([c], seed: 6, lo: 0.5, hi: 1.5), b = randomVar([c], seed: 7)
            let eps = 1e-5
            let g = OpCheck.gradients([x, w, b]) { v in layerNorm(v[0], weight: v[1], bias: v[2], eps: Float(eps)) }
            var rng = RNG(seed: 7)
            let r = Tensor(uninitialized: shape)
            rng.fillUniform(r, low: -1, high: 1)
            var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: c), db = dw
            for row in 0..<rows {
                let xs = (0..<c).map { Double(x.value.data[row * c + $0]) }
                let m = xs.reduce(0, +) / Double(c)
                let s = 1 / (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(c) + eps).squareRoot()
                let n = xs.map { ($0 - m) * s }
                let gy = (0..<c).map { Double(r.data[row * c + $0]) }
                let gn = (0..<c).map { gy[$0] * Double(w.value.data[$0]) }
                let mg = gn.reduce(0, +) / Double(c)
                let mgn = zip(gn, n).map { $0 * $1 }.reduce(0, +) / Double(c)
                for j in 0..<c {
                    dx[row * c + j] = (gn[j] - mg - n[j] * mgn) * s
                    dw[j] += gy[j] * n[j]
                    db[j] += gy[j]
                }
            }
            OpCheck.assertNear(g[0], dx, tol: 1e-4, "dx \(shape)")
            OpCheck.assertNear(g[1], dw, tol: 1e-4, "dw \(shape)")
            OpCheck.assertNear(g[2], db, tol: 1e-4, "db \(shape)")
        }
    }

    func testSingleThreadMatches() {
        let x = OpCheck.spreadRows([300, 384], seed: 9)
        let w = randomVar([384], seed: 10, lo: 0.5, hi: 1.5), b = randomVar([384], seed: 11)
        let f: ([Variable]) -> Variable = { v in layerNorm(v[0], weight: v[1], bias: v[2], eps: 1e-6) }
        let many = OpCheck.gradients([x, w, b], f)
        var one: [[Float]] = []
        OpCheck.withThreads(1) { one = OpCheck.gradients([x, w, b], f) }
        for i in 0..<3 { OpCheck.assertNear(one[i], many[i].map(Double.init), tol: 1e-5, "input \(i)") }
    }

    func testConstantRowGivesBias() {
        let x = Variable(Tensor(filled: 3, shape: [2, 4]), requiresGrad: true)
        let w = randomVar([4], seed: 1), b = randomVar([4], seed: 2)
        let y = Tape.noGrad { layerNorm(x, weight: w, bias: b, eps: 1e-6) }
        XCTAssertEqual(y.value.array, b.value.array + b.value.array)
    }
}
