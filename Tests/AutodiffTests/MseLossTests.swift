import XCTest
import TensorCore
import Autodiff

final class MseLossTests: XCTestCase {
    func testEqualsMeanOfSquares() {
        for shape in [[1], [7], [3, 5], [2, 13, 9], [4, 100_003]] {
            let pred = NaiveRef.tensor(shape, seed: 1), target = NaiveRef.tensor(shape, seed: 2)
            let loss = Tape.noGrad { mseLoss(Variable(pred), target) }
            XCTAssertEqual(loss.shape, [])
            let p = pred.array, t = target.array
            var s = 0.0
            for i in 0..<p.count { let e = Double(p[i]) - Double(t[i]); s += e * e }
            NaiveRef.assertClose(loss.value.array, [s / Double(p.count)], tol: 1e-6, "mse \(shape)")
        }
    }

    func testHandValue() {
        let pred = Variable(Tensor(shape: [2, 2], values: [1, 2, 3, 4]), requiresGrad: true)
        let target = Tensor(shape: [2, 2], values: [1, 0, 0, 8])
        let loss = mseLoss(pred, target)
        XCTAssertEqual(loss.value.data[0], (0 + 4 + 9 + 16) / 4, accuracy: 1e-6)
        loss.backward()
        XCTAssertEqual(pred.grad!.array, [0, 1, 1.5, -2])   // 2(p − t)/4
    }

    func testGradientsOddShapes() {
        for shape in [[1], [7], [3, 5], [2, 13, 9], [3, 1, 33]] {
            let pred = randomVar(shape, seed: 3), target = NaiveRef.tensor(shape, seed: 4)
            assertGradients([pred]) { v in mseLoss(v[0], target) }
        }
    }

    func testLargeGradient() {
        let pred = randomVar([3, 70_001], seed: 5), target = NaiveRef.tensor([3, 70_001], seed: 6)
        mseLoss(pred, target).backward()
        let p = pred.value.array, t = target.array
        NaiveRef.assertClose(pred.grad!.array, (0..<p.count).map { 2 * (Double(p[$0]) - Double(t[$0])) / Double(p.count) }, tol: 1e-6)
    }
}
