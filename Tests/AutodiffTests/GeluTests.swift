import XCTest
import TensorCore
import Autodiff

final class GeluTests: XCTestCase {
    func testForwardMatchesReference() {
        for (i, shape) in [[1], [7], [3, 13], [2, 5, 9], [100_003]].enumerated() {
            let x = randomVar(shape, seed: UInt64(i + 1), lo: -6, hi: 6)
            let y = Tape.noGrad { gelu(x) }
            XCTAssertEqual(y.shape, shape)
            OpCheck.assertNear(y.value.array, x.value.array.map { geluReference(Double($0)) }, tol: 1e-6, "gelu \(shape)")
        }
    }

    func testSpecialValues() {
        let x = Variable(Tensor(shape: [6], values: [0, 10, -10, 1, -1, .nan]))
        let y = gelu(x).value.array
        XCTAssertEqual(y[0], 0)
        XCTAssertEqual(y[1], 10, accuracy: 1e-6)
        XCTAssertEqual(y[2], 0, accuracy: 1e-6)
        XCTAssertEqual(Double(y[3]), 0.8413447460685429, accuracy: 1e-6)
        XCTAssertEqual(Double(y[4]), -0.15865525393145707, accuracy: 1e-6)
        XCTAssertTrue(y[5].isNaN)
    }

    func testGradients() {
        for (i, shape) in [[1], [7], [3, 13], [2, 5, 9], [100_003]].enumerated() {
            let x = randomVar(shape, seed: UInt64(i + 10), lo: -4, hi: 4)
            assertGradients([x]) { v in gelu(v[0]) }
        }
    }

    /// The derivative on every element against the closed form in double.
    func testGradientMatchesClosedForm() {
        let x = randomVar([2, 1001], seed: 3, lo: -5, hi: 5)
        let g = OpCheck.gradients([x]) { v in gelu(v[0]) }
        var rng = RNG(seed: 7)
        let r = Tensor(uninitialized: x.shape)
        rng.fillUniform(r, low: -1, high: 1)
        let expect = (0..<x.count).map { i -> Double in
            let v = Double(x.value.data[i])
            let slope = 0.5 * (1 + erf(v / 2.0.squareRoot())) + v * exp(-v * v / 2) / (2 * Double.pi).squareRoot()
            return Double(r.data[i]) * slope
        }
        OpCheck.assertNear(g[0], expect, tol: 1e-6, "dgelu")
    }
}
