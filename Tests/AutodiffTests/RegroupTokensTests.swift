import XCTest
import TensorCore
import Autodiff

final class RegroupTokensTests: XCTestCase {
    /// (B, X, Y, D)
    static let cases: [(Int, Int, Int, Int)] = [(2, 3, 5, 4), (1, 1, 7, 3), (3, 4, 1, 2), (1, 2, 2, 1), (2, 8, 49, 6)]

    /// out[b, y, x, :] = x[b, x, y, :], written out with indices.
    static func naive(_ x: [Float], _ c: (Int, Int, Int, Int)) -> [Double] {
        let (b, X, Y, d) = c
        var out = [Double](repeating: 0, count: x.count)
        for bi in 0..<b { for xi in 0..<X { for y in 0..<Y { for j in 0..<d {
            out[((bi * Y + y) * X + xi) * d + j] = Double(x[((bi * X + xi) * Y + y) * d + j])
        } } } }
        return out
    }

    func testForwardMatchesNaiveAndPermute() {
        for (i, c) in Self.cases.enumerated() {
            let (b, X, Y, d) = c
            let x = randomVar([b, X * Y, d], seed: UInt64(i + 1))
            let y = regroupTokens(x, batch: b, rows: X, cols: Y, as: [b * Y, X, d])
            Tape.clear()
            XCTAssertEqual(y.shape, [b * Y, X, d])
            OpCheck.assertNear(y.value.array, Self.naive(x.value.array, c), tol: 0, "regroup \(c)")
            // the raw TensorCore permute agrees
            let p = permute(x.value.reshaped([b, X, Y, d]), [0, 2, 1, 3])
            XCTAssertEqual(p.array, y.value.array, "permute \(c)")
        }
    }

    /// Time-major tokens → per-position sequences → back is the identity.
    func testRoundTrip() {
        let (b, g, s, d) = (2, 4, 9, 5)
        let x = randomVar([b, g * s, d], seed: 9)
        let t = regroupTokens(x, batch: b, rows: g, cols: s, as: [b * s, g, d])
        // sequence (b, s) holds the tokens g·S + s of sample b, in g order
        for bi in 0..<b { for si in 0..<s { for gi in 0..<g { for j in 0..<d {
            XCTAssertEqual(t.value.data[((bi * s + si) * g + gi) * d + j], x.value.data[(bi * g * s + gi * s + si) * d + j])
        } } } }
        let back = regroupTokens(t, batch: b, rows: s, cols: g, as: [b, g * s, d])
        XCTAssertEqual(back.shape, x.shape)
        XCTAssertEqual(back.value.array, x.value.array)
        Tape.clear()
    }

    func testGradients() {
        for (i, c) in Self.cases.enumerated() {
            let (b, X, Y, d) = c
            let x = randomVar([b, X * Y, d], seed: UInt64(i + 20))
            let w = randomVar([X, d], seed: UInt64(i + 40))   // position-dependent weights after the regroup
            assertGradients([x, w]) { v in mul(regroupTokens(v[0], batch: b, rows: X, cols: Y, as: [b * Y, X, d]), v[1]) }
        }
    }

    /// The backward is the inverse swap, exactly (it only moves numbers).
    func testBackwardIsInverseSwap() {
        for (i, c) in Self.cases.enumerated() {
            let (b, X, Y, d) = c
            let x = randomVar([b, X * Y, d], seed: UInt64(i + 60))
            let g = OpCheck.gradients([x]) { v in regroupTokens(v[0], batch: b, rows: X, cols: Y, as: [b * Y, X, d]) }
            var rng = RNG(seed: 7)
            let r = Tensor(uninitialized: [b * Y, X, d])
            rng.fillUniform(r, low: -1, high: 1)
            XCTAssertEqual(g[0], Self.naive(r.array, (b, Y, X, d)).map(Float.init), "\(c)")
        }
    }

    func testBackwardAccumulates() {
        let x = randomVar([2, 12, 3], seed: 80)
        let seed = Tensor(filled: 0.5, shape: [8, 3, 3])
        regroupTokens(x, batch: 2, rows: 3, cols: 4, as: [8, 3, 3]).backward(seed: seed)
        regroupTokens(x, batch: 2, rows: 3, cols: 4, as: [8, 3, 3]).backward(seed: seed)
        XCTAssertEqual(x.grad!.array, [Float](repeating: 1, count: 72))
    }

    func testSingleThreadMatches() {
        let x = randomVar([2, 8 * 196, 16], seed: 90), w = randomVar([8, 16], seed: 91)
        func f(_ v: [Variable]) -> Variable { mul(regroupTokens(v[0], batch: 2, rows: 8, cols: 196, as: [392, 8, 16]), v[1]) }
        let many = OpCheck.gradients([x, w], f)
        var one: [[Float]] = []
        OpCheck.withThreads(1) { one = OpCheck.gradients([x, w], f) }
        XCTAssertEqual(one[0], many[0])
        OpCheck.assertNear(one[1], many[1].map(Double.init), tol: 1e-5, "dw")
    }

    func testShapeErrors() {
        XCTAssertNil(regroupTokensShapeError([2, 12, 3], batch: 2, rows: 3, cols: 4, as: [8, 3, 3]))
        XCTAssertNil(regroupTokensShapeError([2, 12, 3], batch: 2, rows: 3, cols: 4, as: [72]))
        XCTAssertNotNil(regroupTokensShapeError([2, 12, 3], batch: 2, rows: 5, cols: 4, as: [8, 3, 3]))   // 72 % 40
        XCTAssertNotNil(regroupTokensShapeError([2, 12, 3], batch: 2, rows: 3, cols: 4, as: [8, 3, 4]))   // count
        XCTAssertNotNil(regroupTokensShapeError([2, 12, 3], batch: 0, rows: 3, cols: 4, as: [0]))
        XCTAssertNotNil(regroupTokensShapeError([0, 12, 3], batch: 1, rows: 3, cols: 4, as: [0]))
    }
}
