import XCTest
import TensorCore
import Autodiff

final class LinearTests: XCTestCase {
    func testGradientsOddShapes() {
        for (m, i, o) in [(1, 1, 1), (3, 5, 7), (13, 17, 9), (2 * 3, 33, 19)] {
            let x = randomVar([m, i], seed: 1), w = randomVar([o, i], seed: 2), b = randomVar([o], seed: 3)
            assertGradients([x, w, b]) { v in linear(v[0], v[1], v[2]) }
            assertGradients([x, w]) { v in linear(v[0], v[1], nil) }
        }
    }

    func testLeadingDimsFlattened() {
        let x = randomVar([2, 3, 5], seed: 4), w = randomVar([4, 5], seed: 5), b = randomVar([4], seed: 6)
        let y = Tape.noGrad { linear(x, w, b) }
        XCTAssertEqual(y.shape, [2, 3, 4])
        // naive check of one element
        var s = b.value.data[2]
        for k in 0..<5 { s += x.value.data[(1 * 3 + 2) * 5 + k] * w.value.data[2 * 5 + k] }
        XCTAssertEqual(y.value.data[(1 * 3 + 2) * 4 + 2], s, accuracy: 1e-5)
    }

    func testNoGradRecordsNothing() {
        let x = randomVar([3, 4], seed: 1), w = randomVar([2, 4], seed: 2)
        _ = Tape.noGrad { linear(x, w, nil) }
        XCTAssertEqual(Tape.count, 0)
        let y = linear(x, w, nil)
        XCTAssertEqual(Tape.count, 1)
        y.backward(seed: Tensor(filled: 1, shape: y.shape))
        XCTAssertEqual(Tape.count, 0)
        XCTAssertNotNil(w.grad)
    }

    func testBackwardAccumulates() {
        let x = randomVar([3, 4], seed: 1), w = randomVar([2, 4], seed: 2)
        linear(x, w, nil).backward(seed: Tensor(filled: 1, shape: [3, 2]))
        let g1 = w.grad!.array, gx1 = x.grad!.array
        linear(x, w, nil).backward(seed: Tensor(filled: 1, shape: [3, 2]))
        for (a, b) in zip(w.grad!.array, g1) { XCTAssertEqual(a, 2 * b, accuracy: 1e-5) }
        for (a, b) in zip(x.grad!.array, gx1) { XCTAssertEqual(a, 2 * b, accuracy: 1e-5, "dx accumulates once it exists") }
    }

    /// The first backward into x writes its fresh gradient buffer whole (no zero-fill): with the
    /// tensor pool full of NaN-filled buffers of that size, dx = dy · W still, exactly.
    func testFreshInputGradientIsOverwrittenWhole() {
        let (m, i, o) = (300, 40, 24)   // large enough for the GEMM split over the cores
        let x = randomVar([m, i], seed: 11), w = randomVar([o, i], seed: 12)
        do { _ = (0..<4).map { _ in Tensor(filled: .nan, shape: [m, i]) } }   // back to the pool, NaN inside
        let dy = randomVar([m, o], seed: 13).value
        linear(x, w, nil).backward(seed: dy)
        let dx = x.grad!.array
        XCTAssertFalse(dx.contains { $0.isNaN }, "NaN from a recycled buffer")
        for r in stride(from: 0, to: m, by: 37) {
            for c in 0..<i {
                var s = 0.0
                for k in 0..<o { s += Double(dy.data[r * o + k]) * Double(w.value.data[k * i + c]) }
                XCTAssertEqual(Double(dx[r * i + c]), s, accuracy: 1e-4, "dx[\(r), \(c)]")
            }
        }
    }

    /// zeroGrad() leaves the weight gradient's buffer as it was (no zero-fill pass) and the next
    /// backward writes dW whole: with NaN in the old buffer, dW = dyᵀ · x exactly, and a second
    /// backward without zeroGrad accumulates onto it.
    func testWeightGradientAfterZeroGradIsOverwrittenWhole() {
        let (m, i, o) = (300, 40, 24)   // large enough for the GEMM split over the cores
        let x = randomVar([m, i], seed: 21), w = randomVar([o, i], seed: 22)
        w.setGrad(Tensor(filled: .nan, shape: [o, i]))
        w.zeroGrad()
        let dy = randomVar([m, o], seed: 23).value
        linear(x, w, nil).backward(seed: dy)
        let dw = w.grad!.array
        XCTAssertFalse(dw.contains { $0.isNaN }, "NaN from the last step's gradient buffer")
        for r in 0..<o {
            for c in 0..<i {
                var s = 0.0
                for k in 0..<m { s += Double(dy.data[k * o + r]) * Double(x.value.data[k * i + c]) }
                XCTAssertEqual(Double(dw[r * i + c]), s, accuracy: 1e-3, "dw[\(r), \(c)]")
            }
        }
        linear(x, w, nil).backward(seed: dy)
        for (a, b) in zip(w.grad!.array, dw) { XCTAssertEqual(a, 2 * b, accuracy: 1e-3, "dw accumulates once written") }
    }
}

/// zeroGrad() is lazy: the gradient reads as zeros, and a kernel that writes it whole is told so.
final class ZeroGradTests: XCTestCase {
    func testAZeroedGradientReadsAsZeros() {
        let v = Variable(Tensor(filled: 1, shape: [5]), requiresGrad: true)
        v.setGrad(Tensor(filled: 3, shape: [5]))
        v.zeroGrad()
        XCTAssertEqual(v.grad!.array, [0, 0, 0, 0, 0])
        v.setGrad(Tensor(filled: 3, shape: [5]))
        v.zeroGrad()
        let two = Tensor(filled: 2, shape: [5])
        Kernels.axpy(1, two.data, v.gradBuffer().data, 5)   // an accumulating kernel
        withExtendedLifetime(two) { XCTAssertEqual(v.grad!.array, [2, 2, 2, 2, 2]) }
    }

    func testAZeroedGradientIsFreshForAWholeWrite() {
        let v = Variable(Tensor(filled: 1, shape: [4]), requiresGrad: true)
        XCTAssertTrue(v.gradBufferToWrite().fresh, "a new buffer")
        XCTAssertFalse(v.gradBufferToWrite().fresh, "then accumulated into")
        v.zeroGrad()
        XCTAssertTrue(v.gradBufferToWrite().fresh, "zeroed and untouched since")
        XCTAssertFalse(v.gradBufferToWrite().fresh)
        v.zeroGrad()
        _ = v.grad   // a read writes the zeros: no longer fresh
        XCTAssertFalse(v.gradBufferToWrite().fresh)
        v.clearGrad()
        v.zeroGrad()
        XCTAssertNil(v.grad, "nothing to zero")
    }
}

/// The checker itself must fail on a wrong gradient, or it proves nothing.
final class GradCheckSelfTest: XCTestCase {
    func testCatchesAWrongBackward() {
        let x = randomVar([4, 3], seed: 9)
        func brokenDouble(_ v: Variable) -> Variable {   // y = 2x, but backward claims dy/dx = 3
            let y = Tensor(uninitialized: v.shape)
            Kernels.scale(2, v.value.data, y.data, v.count)
            return Tape.record(y, inputs: [v]) { out in Kernels.axpy(3, out.grad!.data, v.gradBuffer().data, v.count) }
        }
        let report = GradCheck.run([x]) { brokenDouble($0[0]) }
        XCTAssertGreaterThan(report.maxError, 0.1)
    }
}
