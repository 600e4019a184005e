import Foundation
import TensorCore
import XCTest

/// The SIMD exp/erf and row reductions of `VecMath` against Foundation and double-precision loops.
final class VecMathTests: XCTestCase {
    /// `f` applied to 8 lanes at a time (the tail padded), as the kernels use it.
    func lanes(_ xs: [Float], _ f: (VecMath.V) -> VecMath.V) -> [Float] {
        var out = [Float](repeating: 0, count: xs.count)
        var i = 0
        while i < xs.count {
            var v = VecMath.V(repeating: 0)
            for k in 0..<8 where i + k < xs.count { v[k] = xs[i + k] }
            let r = f(v)
            for k in 0..<8 where i + k < xs.count { out[i + k] = r[k] }
            i += 8
        }
        return out
    }

    func testExpIsWithinThreeUlpOfFoundationsOverTheFloatRange() {
        // every 1/64 from -87 to 88, plus random points
        var xs = stride(from: Float(-87), through: 88, by: 1.0 / 64).map { $0 }
        var rng = RNG(seed: 11)
        for _ in 0..<4096 { xs.append(rng.uniform() * 20 - 10) }
        let got = lanes(xs, VecMath.exp)
        var worst: Float = 0
        for (x, y) in zip(xs, got) {
            let want = Float(Foundation.exp(Double(x)))
            worst = max(worst, abs(y - want) / want.ulp)
        }
        XCTAssertLessThanOrEqual(worst, 3, "largest error in ulp")
    }

    func testExpEdgesFlushSaturateAndPropagateNaN() {
        let got = lanes([-200, -88.5, 0, 89, .infinity, -.infinity, .nan, 1], VecMath.exp)
        XCTAssertEqual(got[0], 0)
        XCTAssertEqual(got[1], 0)
        XCTAssertEqual(got[2], 1)
        let top = Float(Foundation.exp(88.3762626647949))  // the clamp: finite, never inf
        XCTAssertEqual(got[3], top, accuracy: top * 1e-5)
        XCTAssertEqual(got[4], got[3])
        XCTAssertTrue(got[3].isFinite)
        XCTAssertEqual(got[5], 0)
        XCTAssertTrue(got[6].isNaN)
        XCTAssertEqual(got[7], Float(M_E), accuracy: Float(M_E).ulp * 2)
    }

    func testErfIsWithinAFewTenMillionthsOfFoundations() {
        let xs = stride(from: Float(-6), through: 6, by: 1.0 / 256).map { $0 }
        let got = lanes(xs, VecMath.erf)
        var worst: Double = 0
        for (x, y) in zip(xs, got) { worst = max(worst, abs(Double(y) - Foundation.erf(Double(x)))) }
        XCTAssertLessThan(worst, 1e-6)
        XCTAssertEqual(lanes([0], VecMath.erf)[0], 0)
    }

    /// Random rows of lengths with and without a tail past the last full SIMD8 block.
    func rows(seed: UInt64) -> [[Float]] {
        var rng = RNG(seed: seed)
        return [1, 7, 8, 9, 64, 1000, 1027].map { n in (0..<n).map { _ in rng.uniform() * 6 - 3 } }
    }

    func testRowReductionsEqualDoubleLoops() {
        for (x, y) in zip(rows(seed: 1), rows(seed: 2)) {
            let n = x.count
            let c: Float = 0.25
            let (sum, dot, ssd) = x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in
                    (VecMath.sum(xp.baseAddress!, n), VecMath.dot(xp.baseAddress!, yp.baseAddress!, n),
                     VecMath.sumSquaredDeviations(xp.baseAddress!, c, n))
                }
            }
            let m = x.withUnsafeBufferPointer { VecMath.max($0.baseAddress!, n) }
            let wantSum = x.reduce(0.0) { $0 + Double($1) }
            let wantDot = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let wantSSD = x.reduce(0.0) { $0 + (Double($1) - Double(c)) * (Double($1) - Double(c)) }
            let scale = Double(n)  // float32 accumulation error grows with the length
            XCTAssertEqual(Double(sum), wantSum, accuracy: 1e-6 * scale * 3, "sum n=\(n)")
            XCTAssertEqual(Double(dot), wantDot, accuracy: 1e-6 * scale * 9, "dot n=\(n)")
            XCTAssertEqual(Double(ssd), wantSSD, accuracy: 1e-6 * scale * 9, "sumSquaredDeviations n=\(n)")
            XCTAssertEqual(m, x.max()!, "max n=\(n)")
        }
    }

    func testSoftmaxRowAndItsBackwardEqualTheFormulas() {
        for (x, dy) in zip(rows(seed: 3), rows(seed: 4)) {
            let n = x.count
            let mx = Double(x.max()!)
            let e = x.map { Foundation.exp(Double($0) - mx) }
            let want = e.map { $0 / e.reduce(0, +) }
            var y = x
            y.withUnsafeMutableBufferPointer { VecMath.softmaxRowInPlace($0.baseAddress!, n) }
            for i in 0..<n { XCTAssertEqual(Double(y[i]), want[i], accuracy: 1e-6, "softmax n=\(n) i=\(i)") }

            // dx = y ⊙ (dy − Σ dy⊙y), once overwriting and once added to a start value of 1
            let c = zip(dy, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let wantDx = (0..<n).map { Double(y[$0]) * (Double(dy[$0]) - c) }
            var out = [Float](repeating: 0, count: n)
            var acc = [Float](repeating: 1, count: n)
            y.withUnsafeBufferPointer { yp in
                dy.withUnsafeBufferPointer { dp in
                    out.withUnsafeMutableBufferPointer { VecMath.softmaxBackwardRow(y: yp.baseAddress!, dy: dp.baseAddress!, out: $0.baseAddress!, n) }
                    acc.withUnsafeMutableBufferPointer { VecMath.softmaxBackwardRowAccumulate(y: yp.baseAddress!, dy: dp.baseAddress!, dx: $0.baseAddress!, n) }
                }
            }
            for i in 0..<n {
                XCTAssertEqual(Double(out[i]), wantDx[i], accuracy: 1e-5, "softmax backward n=\(n) i=\(i)")
                XCTAssertEqual(Double(acc[i]), 1 + wantDx[i], accuracy: 1e-5, "accumulating backward n=\(n) i=\(i)")
            }
        }
    }
}
