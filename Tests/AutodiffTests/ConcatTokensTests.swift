import XCTest
import TensorCore
import Autodiff

final class ConcatTokensTests: XCTestCase {
    func testForwardMatchesNaive() {
        for (b, ns, d) in [(1, [1], 1), (2, [3, 1, 5], 7), (3, [0, 4, 2], 9), (2, [49, 147], 40)] {
            let xs = ns.enumerated().map { NaiveRef.tensor([b, $0.element, d], seed: UInt64(10 + $0.offset)) }
            let y = Tape.noGrad { concatTokens(xs.map { Variable($0) }) }
            let total = ns.reduce(0, +)
            XCTAssertEqual(y.shape, [b, total, d])
            var ref: [Double] = []
            for s in 0..<b { for (k, t) in xs.enumerated() { let a = t.array
                for i in 0..<ns[k] { for j in 0..<d { ref.append(Double(a[(s * ns[k] + i) * d + j])) } } } }
            NaiveRef.assertClose(y.value.array, ref, tol: 0, "concat \(ns)")
        }
    }

    func testGradientsOddShapes() {
        for (b, ns, d) in [(1, [1, 1], 1), (2, [3, 1, 5], 7), (3, [2, 4, 3], 9), (1, [13], 17), (2, [5, 11], 33)] {
            let xs = ns.enumerated().map { randomVar([b, $0.element, d], seed: UInt64(20 + $0.offset)) }
            assertGradients(xs) { v in concatTokens(v) }
        }
    }

    func testConstantInputGetsNoGradient() {
        let a = randomVar([2, 3, 5], seed: 1)
        let c = Variable(NaiveRef.tensor([2, 2, 5], seed: 2))   // e.g. mask tokens that need no gradient
        let b = randomVar([2, 4, 5], seed: 3)
        assertGradients([a, b]) { v in concatTokens([v[0], c, v[1]]) }
        XCTAssertNil(c.grad)
    }
}
