import XCTest
import Foundation
import TensorCore
import Autodiff

final class CrossEntropyTests: XCTestCase {
    /// −Σ_k q_k log softmax(z)_k with q = (1 − s)·onehot + s/K, mean over rows; in double, from the definition.
    func naive(_ logits: Tensor, _ labels: [Int], _ s: Double) -> Double {
        let (b, k) = (logits.shape[0], logits.shape[1]), z = logits.array.map(Double.init)
        var total = 0.0
        for r in 0..<b {
            let row = Array(z[(r * k)..<((r + 1) * k)])
            let m = row.max()!
            let lse = m + Foundation.log(row.map { Foundation.exp($0 - m) }.reduce(0, +))
            for j in 0..<k {
                let q = (j == labels[r] ? 1 - s : 0) + s / Double(k)
                total -= q * (row[j] - lse)
            }
        }
        return total / Double(b)
    }

    func testHandComputed() {
        // logits [1, 2, 3], label 2: lse = log(e + e² + e³) = 3.4076059644443806
        let z = Variable(Tensor(shape: [1, 3], values: [1, 2, 3]))
        XCTAssertEqual(Double(crossEntropy(z, labels: [2], smoothing: 0).value[flat: 0]), 0.4076059644443806, accuracy: 1e-6)
        // s = 0.1: lse − 0.9·3 − (0.1/3)·(1 + 2 + 3) = 0.5076059644443806
        XCTAssertEqual(Double(crossEntropy(z, labels: [2], smoothing: 0.1).value[flat: 0]), 0.5076059644443806, accuracy: 1e-6)
        // two rows, mean: label 0 gives lse − 1 = 2.4076059644443806
        let z2 = Variable(Tensor(shape: [2, 3], values: [1, 2, 3, 1, 2, 3]))
        XCTAssertEqual(Double(crossEntropy(z2, labels: [2, 0], smoothing: 0).value[flat: 0]), (0.4076059644443806 + 2.4076059644443806) / 2, accuracy: 1e-6)
    }

    /// With s = 0 it is plain NLL of log-softmax; with s = 1 the target is uniform: lse − mean(z).
    func testPyTorchSemantics() {
        let logits = NaiveRef.tensor([5, 7], seed: 1, lo: -3, hi: 3)
        let labels = [0, 6, 3, 3, 1]
        let z = logits.array.map(Double.init)
        var nll = 0.0, uniform = 0.0
        for r in 0..<5 {
            let row = Array(z[(r * 7)..<((r + 1) * 7)])
            let lse = Foundation.log(row.map(Foundation.exp).reduce(0, +))
            nll += lse - row[labels[r]]
            uniform += lse - row.reduce(0, +) / 7
        }
        let v = Variable(logits)
        XCTAssertEqual(Double(crossEntropy(v, labels: labels, smoothing: 0).value[flat: 0]), nll / 5, accuracy: 1e-5)
        XCTAssertEqual(Double(crossEntropy(v, labels: labels, smoothing: 1).value[flat: 0]), uniform / 5, accuracy: 1e-5)
    }

    func testMatchesNaive() {
        var rng = RNG(seed: 2)
        for (b, k) in [(1, 1), (1, 2), (3, 5), (7, 13), (2, 400), (33, 10)] {
            let logits = NaiveRef.tensor([b, k], seed: UInt64(b * 100 + k), lo: -5, hi: 5)
            let labels = (0..<b).map { _ in rng.int(below: k) }
            for s in [0, 0.1, 0.5] as [Float] {
                let loss = Tape.noGrad { crossEntropy(Variable(logits), labels: labels, smoothing: s) }
                XCTAssertEqual(loss.shape, [])
                NaiveRef.assertClose(loss.value.array, [naive(logits, labels, Double(s))], tol: 1e-5, "ce \(b)x\(k) s=\(s)")
            }
        }
    }

    func testLargeLogitsStayFinite() {
        let z = Variable(Tensor(shape: [2, 3], values: [1000, 0, -1000, -500, 500, 499]), requiresGrad: true)
        let loss = crossEntropy(z, labels: [0, 2], smoothing: 0.1)
        XCTAssertTrue(loss.value.data[0].isFinite)
        // row 0: lse = 1000; 1000 − 0.9·1000 − (0.1/3)·0 = 100
        // row 1: lse = 500 + log(1 + e⁻¹); − 0.9·499 − (0.1/3)·499
        let r1 = 500 + Foundation.log(1 + Foundation.exp(-1.0)) - 0.9 * 499 - 0.1 / 3 * 499
        XCTAssertEqual(Double(loss.value.data[0]), (100 + r1) / 2, accuracy: 1e-3)
        loss.backward()
        XCTAssertTrue(z.grad!.array.allSatisfy(\.isFinite))
    }

    func testGradientsOddShapes() {
        var rng = RNG(seed: 3)
        for (b, k) in [(1, 1), (1, 2), (3, 5), (7, 13), (2, 33), (5, 101)] {
            let logits = randomVar([b, k], seed: UInt64(k), lo: -3, hi: 3)
            let labels = (0..<b).map { _ in rng.int(below: k) }
            for s in [0, 0.1, 0.7] as [Float] {
                assertGradients([logits]) { v in crossEntropy(v[0], labels: labels, smoothing: s) }
            }
        }
    }

    /// dL/dz = (softmax − q)/B exactly, and it accumulates.
    func testGradientFormula() {
        let logits = randomVar([3, 4], seed: 4)
        let labels = [1, 3, 0], s: Float = 0.2
        crossEntropy(logits, labels: labels, smoothing: s).backward()
        let z = logits.value.array.map(Double.init)
        var ref: [Double] = []
        for r in 0..<3 {
            let row = Array(z[(r * 4)..<((r + 1) * 4)])
            let e = row.map(Foundation.exp), sum = e.reduce(0, +)
            for j in 0..<4 { ref.append((e[j] / sum - ((j == labels[r] ? 0.8 : 0) + 0.05)) / 3) }
        }
        NaiveRef.assertClose(logits.grad!.array, ref, tol: 1e-6)
        crossEntropy(logits, labels: labels, smoothing: s).backward()
        NaiveRef.assertClose(logits.grad!.array, ref.map { 2 * $0 }, tol: 1e-6)
    }
}
