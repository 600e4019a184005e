import XCTest
import TensorCore
import Autodiff

final class ReshapeTests: XCTestCase {
    func testViewOfSameStorage() {
        let x = randomVar([2, 3, 4], seed: 1)
        let y = reshape(x, [6, 4])
        XCTAssertEqual(y.shape, [6, 4])
        XCTAssertEqual(y.value.data, x.value.data, "reshape must not copy")
        XCTAssertEqual(reshape(x, [-1, 2]).shape, [12, 2])
        XCTAssertEqual(reshape(x, [4, -1, 3]).shape, [4, 2, 3])
        Tape.clear()
    }

    func testGradients() {
        for (from, to) in [([2, 3, 4], [6, 4]), ([7], [7, 1]), ([3, 5, 2], [-1]), ([1], [1, 1, 1]), ([5, 13], [13, 5])] {
            let x = randomVar(from, seed: 2), w = randomVar([to == [-1] ? 30 : to.last!], seed: 3)
            // a non-trivial op after the reshape, so the gradient has to come back in the right place
            assertGradients([x, w]) { v in mul(reshape(v[0], to), v[1]) }
            let g = OpCheck.gradients([x]) { v in reshape(v[0], to) }
            XCTAssertEqual(g[0].count, x.count)
            var rng = RNG(seed: 7)
            let r = Tensor(uninitialized: [x.count])
            rng.fillUniform(r, low: -1, high: 1)
            XCTAssertEqual(g[0], r.array)
        }
    }

    func testGradientShapeIsInputShape() {
        let x = randomVar([2, 6], seed: 4)
        reshape(x, [3, 4]).backward(seed: Tensor(filled: 1, shape: [3, 4]))
        XCTAssertEqual(x.grad?.shape, [2, 6])
    }
}
