import XCTest
import TensorCore
import Autodiff

final class ConcatTests: XCTestCase {
    func testForwardMatchesNaive() {
        let parts = [NaiveRef.tensor([3], seed: 1), NaiveRef.tensor([0], seed: 2), NaiveRef.tensor([7], seed: 3)]
        let y = Tape.noGrad { concat(parts.map { Variable($0) }) }
        XCTAssertEqual(y.shape, [10])
        NaiveRef.assertClose(y.value.array, parts.flatMap { $0.array.map(Double.init) }, tol: 0)
    }

    func testGradientsOddShapes() {
        for ns in [[1], [1, 1], [3, 5, 7], [13, 1, 29]] {
            let xs = ns.enumerated().map { randomVar([$0.element], seed: UInt64(30 + $0.offset)) }
            assertGradients(xs) { v in concat(v) }
        }
    }

    /// The qkv bias: [q_bias, zeros (the key has no bias), v_bias].
    func testQKVBias() {
        let d = 5
        let q = randomVar([d], seed: 1), v = randomVar([d], seed: 2)
        let zeros = Variable(Tensor(zeros: [d]))
        let bias = concat([q, zeros, v])
        XCTAssertEqual(bias.value.array, q.value.array + [Float](repeating: 0, count: d) + v.value.array)
        bias.backward(seed: Tensor(shape: [3 * d], values: (0..<(3 * d)).map(Float.init)))
        XCTAssertEqual(q.grad!.array, (0..<d).map(Float.init))
        XCTAssertEqual(v.grad!.array, (2 * d..<3 * d).map(Float.init))
        XCTAssertNil(zeros.grad)
        assertGradients([q, v]) { x in concat([x[0], zeros, x[1]]) }
    }

    func testAllConstantRecordsNothing() {
        let y = concat([Variable(Tensor(zeros: [2])), Variable(Tensor(zeros: [3]))])
        XCTAssertFalse(y.requiresGrad)
        XCTAssertEqual(Tape.count, 0)
    }
}
