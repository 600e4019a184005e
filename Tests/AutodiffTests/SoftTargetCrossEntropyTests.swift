import XCTest
import Foundation
import TensorCore
import Autodiff

final class SoftTargetCrossEntropyTests: XCTestCase {
    /// (1/B) Σ_b Σ_k −t[b, k] · log softmax(z[b])_k, in double, from the definition.
    func naive(_ logits: Tensor, _ targets: Tensor) -> Double {
        let (b, k) = (logits.shape[0], logits.shape[1])
        let z = logits.array.map(Double.init), t = targets.array.map(Double.init)
        var total = 0.0
        for r in 0..<b {
            let row = Array(z[(r * k)..<((r + 1) * k)])
            let m = row.max()!
            let lse = m + Foundation.log(row.map { Foundation.exp($0 - m) }.reduce(0, +))
            for j in 0..<k { total -= t[r * k + j] * (row[j] - lse) }
        }
        return total / Double(b)
    }

    /// Rows of random non-negative weights that sum to 1 (a mixup target).
    func softTargets(_ b: Int, _ k: Int, seed: UInt64) -> Tensor {
        let t = NaiveRef.tensor([b, k], seed: seed, lo: 0, hi: 1)
        for r in 0..<b {
            var s: Float = 0
            for j in 0..<k { s += t.data[r * k + j] }
            for j in 0..<k { t.data[r * k + j] /= s }
        }
        return t
    }

    func testHandComputed() {
        // logits [1, 2, 3], t = [0, 0.25, 0.75]: lse = 3.4076059644443806; L = lse − (0.25·2 + 0.75·3)
        let z = Variable(Tensor(shape: [1, 3], values: [1, 2, 3]))
        let t = Tensor(shape: [1, 3], values: [0, 0.25, 0.75])
        XCTAssertEqual(Double(softTargetCrossEntropy(z, targets: t).value[flat: 0]), 3.4076059644443806 - 2.75, accuracy: 1e-6)
        // one-hot on class 2: plain NLL
        let onehot = Tensor(shape: [1, 3], values: [0, 0, 1])
        XCTAssertEqual(Double(softTargetCrossEntropy(z, targets: onehot).value[flat: 0]), 0.4076059644443806, accuracy: 1e-6)
    }

    func testMatchesNaive() {
        for (b, k) in [(1, 1), (1, 2), (3, 5), (7, 13), (2, 400), (33, 10)] {
            let logits = NaiveRef.tensor([b, k], seed: UInt64(b * 100 + k), lo: -5, hi: 5)
            let t = softTargets(b, k, seed: UInt64(k))
            let loss = Tape.noGrad { softTargetCrossEntropy(Variable(logits), targets: t) }
            XCTAssertEqual(loss.shape, [])
            NaiveRef.assertClose(loss.value.array, [naive(logits, t)], tol: 1e-5, "soft ce \(b)x\(k)")
        }
    }

    func testGradientsOddShapes() {
        for (b, k) in [(1, 1), (1, 2), (3, 5), (7, 13), (2, 33), (5, 101)] {
            let logits = randomVar([b, k], seed: UInt64(k), lo: -3, hi: 3)
            let t = softTargets(b, k, seed: UInt64(b + 17))
            assertGradients([logits]) { v in softTargetCrossEntropy(v[0], targets: t) }
            // rows that do not sum to 1 (the general formula softmax·Σt − t)
            let loose = NaiveRef.tensor([b, k], seed: UInt64(b * 7 + k), lo: 0, hi: 2)
            assertGradients([logits]) { v in softTargetCrossEntropy(v[0], targets: loose) }
        }
    }

    /// dL/dz = (softmax − t)/B when the rows sum to 1, and it accumulates.
    func testGradientFormula() {
        let logits = randomVar([3, 4], seed: 4)
        let t = softTargets(3, 4, seed: 9)
        softTargetCrossEntropy(logits, targets: t).backward()
        let z = logits.value.array.map(Double.init), tt = t.array.map(Double.init)
        var ref: [Double] = []
        for r in 0..<3 {
            let row = Array(z[(r * 4)..<((r + 1) * 4)])
            let e = row.map(Foundation.exp), sum = e.reduce(0, +)
            for j in 0..<4 { ref.append((e[j] / sum - tt[r * 4 + j]) / 3) }
        }
        NaiveRef.assertClose(logits.grad!.array, ref, tol: 1e-6)
        softTargetCrossEntropy(logits, targets: t).backward()
        NaiveRef.assertClose(logits.grad!.array, ref.map { 2 * $0 }, tol: 1e-6)
    }

    /// With t = (1 − s)·onehot(y) + s/K (timm's one_hot(y, on = 1 − s + s/K, off = s/K)) it is the
    /// existing crossEntropy(labels: y, smoothing: s): the same loss and the same gradient.
    func testEqualsCrossEntropyWithSmoothingOnSmoothedOneHotTargets() {
        var rng = RNG(seed: 5)
        for (b, k) in [(1, 2), (4, 3), (7, 13), (3, 400)] {
            let labels = (0..<b).map { _ in rng.int(below: k) }
            for s in [0, 0.1, 0.3] as [Float] {
                let off = s / Float(k), on = 1 - s + off
                let t = Tensor(uninitialized: [b, k])
                for r in 0..<b { for j in 0..<k { t.data[r * k + j] = j == labels[r] ? on : off } }
                let a = randomVar([b, k], seed: UInt64(b * 31 + k), lo: -4, hi: 4)
                let c = Variable(a.value.copy(), requiresGrad: true)
                // one backward per tape: the tape is cleared by each backward
                let la = softTargetCrossEntropy(a, targets: t)
                la.backward()
                let lc = crossEntropy(c, labels: labels, smoothing: s)
                lc.backward()
                XCTAssertEqual(la.value[flat: 0], lc.value[flat: 0], accuracy: 2e-6 * max(1, abs(lc.value[flat: 0])), "\(b)x\(k) s=\(s)")
                NaiveRef.assertClose(a.grad!.array, c.grad!.array.map(Double.init), tol: 1e-6, "grad \(b)x\(k) s=\(s)")
            }
        }
    }

    func testLargeLogitsStayFinite() {
        let z = Variable(Tensor(shape: [2, 3], values: [1000, 0, -1000, -500, 500, 499]), requiresGrad: true)
        let t = Tensor(shape: [2, 3], values: [0.5, 0.5, 0, 0, 0.3, 0.7])
        let loss = softTargetCrossEntropy(z, targets: t)
        // row 0: lse = 1000, 1000 − (500 + 0) = 500; row 1: lse = 500 + log(1 + e⁻¹), − (150 + 349.3)
        let r1 = 500 + Foundation.log(1 + Foundation.exp(-1.0)) - (0.3 * 500 + 0.7 * 499)
        XCTAssertEqual(Double(loss.value.data[0]), (500 + r1) / 2, accuracy: 1e-3)
        loss.backward()
        XCTAssertTrue(z.grad!.array.allSatisfy(\.isFinite))
    }
}
