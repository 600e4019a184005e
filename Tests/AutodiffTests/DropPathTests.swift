import XCTest
import TensorCore
import Autodiff

final class DropPathTests: XCTestCase {
    func testRateZeroIsIdentity() {
        let x = randomVar([3, 4], seed: 1)
        var rng = RNG(seed: 2)
        let before = rng
        XCTAssertTrue(dropPath(x, rate: 0, rng: &rng) === x)
        XCTAssertEqual(rng, before, "rate 0 draws nothing")
        XCTAssertEqual(Tape.count, 0)
    }

    /// Each sample is either all zero or x/(1 − rate), decided by one draw (kept when uniform < 1 − rate).
    func testPerSampleMaskAndScale() {
        let (b, e) = (40, 3 * 5)
        let x = NaiveRef.tensor([b, 3, 5], seed: 3)
        let rate: Float = 0.3
        var rng = RNG(seed: 4)
        var mirror = rng
        let y = Tape.noGrad { dropPath(Variable(x), rate: rate, rng: &rng) }.value.array
        let xs = x.array
        var kept = 0
        for s in 0..<b {
            let keep = mirror.uniform() < 1 - rate
            if keep { kept += 1 }
            for j in 0..<e {
                XCTAssertEqual(y[s * e + j], keep ? xs[s * e + j] * (1 / (1 - rate)) : 0, "sample \(s)")
            }
        }
        XCTAssertEqual(rng, mirror, "exactly one draw per sample")
        XCTAssertGreaterThan(kept, 0); XCTAssertLessThan(kept, b)
    }

    func testKeepRateAndExpectation() {
        let b = 20_000
        let x = Tensor(filled: 1, shape: [b, 2])
        var rng = RNG(seed: 5)
        let y = Tape.noGrad { dropPath(Variable(x), rate: 0.25, rng: &rng) }.value.array
        let keptFraction = Double(stride(from: 0, to: 2 * b, by: 2).filter { y[$0] != 0 }.count) / Double(b)
        XCTAssertEqual(keptFraction, 0.75, accuracy: 0.015)
        XCTAssertEqual(Kernels.sum(y, y.count) / Double(2 * b), 1, accuracy: 0.02, "E[dropPath(x)] = x")
    }

    func testRateOneDropsAll() {
        var rng = RNG(seed: 6)
        let y = Tape.noGrad { dropPath(Variable(NaiveRef.tensor([4, 3], seed: 7)), rate: 1, rng: &rng) }
        XCTAssertEqual(y.value.array, [Float](repeating: 0, count: 12))
    }

    func testGradientsOddShapes() {
        for (shape, rate) in [([1, 1], Float(0.5)), ([5, 3], 0.5), ([7, 13, 3], 0.2), ([9, 1, 33], 0.6), ([2, 5, 7], 0.9)] {
            let x = randomVar(shape, seed: 8)
            // The mask must repeat on every forward of the check: a fresh RNG with the same seed each call.
            assertGradients([x]) { v in
                var rng = RNG(seed: 9)
                return dropPath(v[0], rate: rate, rng: &rng)
            }
        }
    }

    /// Backward uses the forward's mask: dx = factor[b] · dout, and accumulates.
    func testBackwardUsesSameMask() {
        let x = randomVar([50, 4], seed: 10)
        var rng = RNG(seed: 11)
        let y = dropPath(x, rate: 0.5, rng: &rng)
        let factors = (0..<50).map { y.value.data[$0 * 4] == 0 && x.value.data[$0 * 4] != 0 ? Float(0) : 2 }
        XCTAssertTrue(factors.contains(0) && factors.contains(2))
        let seed = NaiveRef.tensor([50, 4], seed: 12)
        y.backward(seed: seed)
        let g = x.grad!.array, sd = seed.array
        for s in 0..<50 { for j in 0..<4 { XCTAssertEqual(g[s * 4 + j], factors[s] * sd[s * 4 + j]) } }
    }

    func testLargeParallel() {
        let x = randomVar([3, 100_000], seed: 13)
        var rng = RNG(seed: 14)
        var mirror = rng
        let y = dropPath(x, rate: 0.4, rng: &rng)
        let f = (0..<3).map { _ in mirror.uniform() < 0.6 ? Float(1) / 0.6 : 0 }
        y.backward(seed: Tensor(filled: 1, shape: [3, 100_000]))
        let xs = x.value.array, ys = y.value.array, g = x.grad!.array
        for i in stride(from: 0, to: 300_000, by: 997) {
            XCTAssertEqual(ys[i], f[i / 100_000] * xs[i])
            XCTAssertEqual(g[i], f[i / 100_000])
        }
    }
}
