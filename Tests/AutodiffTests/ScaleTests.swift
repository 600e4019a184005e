import XCTest
import TensorCore
import Autodiff

final class ScaleTests: XCTestCase {
    func testForwardAndGradients() {
        for (i, (shape, s)) in [([1], Float(2)), ([3, 5], -0.5), ([2, 7, 13], 3.25), ([70_001], 0.1), ([4], 0)].enumerated() {
            let x = randomVar(shape, seed: UInt64(i + 1))
            let y = Tape.noGrad { scale(x, s) }
            XCTAssertEqual(y.shape, shape)
            OpCheck.assertNear(y.value.array, x.value.array.map { Double($0) * Double(s) }, tol: 1e-7, "scale \(shape)")
            assertGradients([x]) { v in scale(v[0], s) }
            let g = OpCheck.gradients([x]) { v in scale(v[0], s) }
            var rng = RNG(seed: 7)
            let r = Tensor(uninitialized: shape)
            rng.fillUniform(r, low: -1, high: 1)
            OpCheck.assertNear(g[0], r.array.map { Double($0) * Double(s) }, tol: 1e-7, "dx \(shape)")
        }
    }
}
