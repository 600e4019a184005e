import XCTest
import TensorCore
import Autodiff

final class MulTests: XCTestCase {
    static let shapes: [([Int], [Int])] = [
        ([1], [1]), ([3, 5], [3, 5]), ([2, 3, 5], [5]), ([2, 3, 5], [3, 5]), ([2, 7, 13], [1, 7, 13]),
        ([3, 17], []),
        ([700, 191], [191]),        // chunks of the flat loop start mid-row; db split over columns
        ([2, 300, 229], [300, 229]),
    ]

    static func naive(_ a: Tensor, _ b: Tensor) -> [Double] {
        let n = b.count
        return (0..<a.count).map { Double(a.data[$0]) * Double(b.data[$0 % n]) }
    }

    func testForwardMatchesNaive() {
        for (i, (sa, sb)) in Self.shapes.enumerated() {
            let a = randomVar(sa, seed: UInt64(10 + i)), b = randomVar(sb, seed: UInt64(20 + i))
            let y = Tape.noGrad { mul(a, b) }
            XCTAssertEqual(y.shape, sa)
            OpCheck.assertNear(y.value.array, Self.naive(a.value, b.value), tol: 1e-6, "mul \(sa) * \(sb)")
        }
    }

    func testGradients() {
        for (i, (sa, sb)) in Self.shapes.enumerated() {
            let a = randomVar(sa, seed: UInt64(30 + i)), b = randomVar(sb, seed: UInt64(40 + i))
            assertGradients([a, b]) { v in mul(v[0], v[1]) }
            let c = Variable(b.value, requiresGrad: false)
            assertGradients([a]) { v in mul(v[0], c) }
            XCTAssertNil(c.grad)
        }
    }

    /// Every element of both gradients against the formulas in double (the gradient check samples).
    func testGradientsMatchNaiveEverywhere() {
        for (sa, sb) in [([700, 191], [191]), ([2, 300, 229], [300, 229]), ([4, 9], [9])] {
            let a = randomVar(sa, seed: 50), b = randomVar(sb, seed: 51)
            let g = OpCheck.gradients([a, b]) { v in mul(v[0], v[1]) }
            var rng = RNG(seed: 7)
            let r = Tensor(uninitialized: sa)
            rng.fillUniform(r, low: -1, high: 1)
            let n = b.count
            let da = (0..<a.count).map { Double(r.data[$0]) * Double(b.value.data[$0 % n]) }
            var db = [Double](repeating: 0, count: n)
            for i in 0..<a.count { db[i % n] += Double(r.data[i]) * Double(a.value.data[i]) }
            OpCheck.assertNear(g[0], da, tol: 1e-6, "da \(sa)")
            OpCheck.assertNear(g[1], db, tol: 1e-5, "db \(sb)")
        }
    }

    func testSquare() {
        let x = randomVar([4, 6], seed: 3)
        assertGradients([x]) { v in mul(v[0], v[0]) }
    }
}
