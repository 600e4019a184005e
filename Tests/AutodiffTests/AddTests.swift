import XCTest
import TensorCore
import Autodiff

final class AddTests: XCTestCase {
    static let shapes: [([Int], [Int])] = [
        ([1], [1]), ([3, 5], [3, 5]), ([2, 3, 5], [5]), ([2, 3, 5], [3, 5]), ([2, 7, 13], [1, 7, 13]),
        ([4, 1, 3], [1, 3]), ([3, 17], []), ([300, 257], [257]),   // the last: split over both cores
    ]

    /// out[r, j] = a[r, j] + b[j] in double
    static func naive(_ a: Tensor, _ b: Tensor) -> [Double] {
        let n = b.count
        return (0..<a.count).map { Double(a.data[$0]) + Double(b.data[$0 % n]) }
    }

    func testForwardMatchesNaive() {
        for (i, (sa, sb)) in Self.shapes.enumerated() {
            let a = randomVar(sa, seed: UInt64(10 + i)), b = randomVar(sb, seed: UInt64(20 + i))
            let y = Tape.noGrad { add(a, b) }
            XCTAssertEqual(y.shape, sa)
            OpCheck.assertNear(y.value.array, Self.naive(a.value, b.value), tol: 1e-6, "add \(sa) + \(sb)")
        }
    }

    func testGradients() {
        for (i, (sa, sb)) in Self.shapes.enumerated() {
            let a = randomVar(sa, seed: UInt64(30 + i)), b = randomVar(sb, seed: UInt64(40 + i))
            assertGradients([a, b]) { v in add(v[0], v[1]) }
            // one input without gradient: the other is still right, the constant gets none
            let c = Variable(b.value, requiresGrad: false)
            assertGradients([a]) { v in add(v[0], c) }
            XCTAssertNil(c.grad)
        }
    }

    func testBroadcastGradientIsSumOverRows() {
        let a = randomVar([2, 3, 4], seed: 1), b = randomVar([4], seed: 2)
        let g = OpCheck.gradients([a, b]) { v in add(v[0], v[1]) }
        // with seed R, db[j] = Σ_r R[r, j]; da = R
        var rng = RNG(seed: 7)
        let r = Tensor(uninitialized: [2, 3, 4])
        rng.fillUniform(r, low: -1, high: 1)
        OpCheck.assertNear(g[0], r.array.map(Double.init), tol: 0, "da")
        let expect = (0..<4).map { j in (0..<6).reduce(0.0) { $0 + Double(r.data[$1 * 4 + j]) } }
        OpCheck.assertNear(g[1], expect, tol: 1e-6, "db")
    }

    func testSameVariableTwice() {
        let x = randomVar([3, 4], seed: 3)
        assertGradients([x]) { v in add(v[0], v[0]) }
        let g = OpCheck.gradients([x]) { v in add(v[0], v[0]) }
        var rng = RNG(seed: 7)
        let r = Tensor(uninitialized: [3, 4])
        rng.fillUniform(r, low: -1, high: 1)
        OpCheck.assertNear(g[0], r.array.map { 2 * Double($0) }, tol: 1e-7, "d(x+x)")
    }

    func testBackwardAccumulates() {
        let a = randomVar([5, 3], seed: 4), b = randomVar([3], seed: 5)
        add(a, b).backward(seed: Tensor(filled: 1, shape: [5, 3]))
        add(a, b).backward(seed: Tensor(filled: 1, shape: [5, 3]))
        XCTAssertEqual(a.grad!.array, [Float](repeating: 2, count: 15))
        XCTAssertEqual(b.grad!.array, [Float](repeating: 10, count: 3))
    }

    func testBroadcastRule() {
        XCTAssertEqual(broadcastRows([2, 3, 5], [2, 3, 5]), 1)
        XCTAssertEqual(broadcastRows([2, 3, 5], [5]), 6)
        XCTAssertEqual(broadcastRows([2, 3, 5], [3, 5]), 2)
        XCTAssertEqual(broadcastRows([2, 3, 5], [1, 3, 5]), 2)
        XCTAssertEqual(broadcastRows([2, 3, 5], [1, 1, 5]), 6)
        XCTAssertEqual(broadcastRows([2, 3, 5], []), 30)
        XCTAssertNil(broadcastRows([2, 3, 5], [3]))          // not a suffix
        XCTAssertNil(broadcastRows([2, 3, 5], [2, 5]))
        XCTAssertNil(broadcastRows([2, 3, 5], [2, 1, 5]))    // a middle 1 is not broadcast
        XCTAssertNil(broadcastRows([3, 5], [1, 3, 5]))       // b may not have more axes
        XCTAssertNil(broadcastRows([3, 5], [5, 3]))
    }
}
