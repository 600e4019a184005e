import XCTest
import TensorCore
import Autodiff

final class SoftmaxTests: XCTestCase {
    static func naive(_ x: Tensor) -> [Double] {
        let c = x.shape.last!, rows = x.count / c
        var out = [Double](repeating: 0, count: x.count)
        for r in 0..<rows {
            var m = -Double.infinity
            for j in 0..<c { m = max(m, Double(x.data[r * c + j])) }
            var z = 0.0
            for j in 0..<c { out[r * c + j] = exp(Double(x.data[r * c + j]) - m); z += out[r * c + j] }
            for j in 0..<c { out[r * c + j] /= z }
        }
        return out
    }

    static let shapes: [[Int]] = [[1], [5], [3, 7], [2, 3, 17], [4, 1], [9, 64], [200, 333]]

    func testForwardMatchesNaive() {
        for (i, shape) in Self.shapes.enumerated() {
            let x = randomVar(shape, seed: UInt64(i + 1), lo: -5, hi: 5)
            let y = Tape.noGrad { softmax(x) }
            XCTAssertEqual(y.shape, shape)
            OpCheck.assertNear(y.value.array, Self.naive(x.value), tol: 1e-6, "softmax \(shape)")
        }
    }

    func testLargeInputsAreStable() {
        let x = Variable(Tensor(shape: [2, 3], values: [1000, 1001, 1002, -1000, -1000, -3000]))
        let y = softmax(x).value.array
        OpCheck.assertNear(y, [0.09003057317038046, 0.24472847105479767, 0.6652409557748219, 0.5, 0.5, 0], tol: 1e-6)
    }

    func testGradients() {
        for (i, shape) in Self.shapes.enumerated() {
            let x = randomVar(shape, seed: UInt64(i + 10), lo: -3, hi: 3)
            assertGradients([x]) { v in softmax(v[0]) }
        }
    }

    func testGradientMatchesNaiveEverywhere() {
        let x = randomVar([200, 333], seed: 4, lo: -3, hi: 3)
        let g = OpCheck.gradients([x]) { v in softmax(v[0]) }
        var rng = RNG(seed: 7)
        let r = Tensor(uninitialized: x.shape)
        rng.fillUniform(r, low: -1, high: 1)
        let y = Self.naive(x.value)
        var expect = [Double](repeating: 0, count: x.count)
        for row in 0..<200 {
            var c = 0.0
            for j in 0..<333 { c += Double(r.data[row * 333 + j]) * y[row * 333 + j] }
            for j in 0..<333 { expect[row * 333 + j] = y[row * 333 + j] * (Double(r.data[row * 333 + j]) - c) }
        }
        OpCheck.assertNear(g[0], expect, tol: 1e-6, "dsoftmax")
    }
}
