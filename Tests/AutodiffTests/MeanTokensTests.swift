import XCTest
import TensorCore
import Autodiff

final class MeanTokensTests: XCTestCase {
    func naive(_ x: Tensor) -> [Double] {
        let (b, n, d) = (x.shape[0], x.shape[1], x.shape[2]), a = x.array
        var out = [Double](repeating: 0, count: b * d)
        for s in 0..<b { for j in 0..<d {
            var acc = 0.0
            for t in 0..<n { acc += Double(a[(s * n + t) * d + j]) }
            out[s * d + j] = acc / Double(n)
        } }
        return out
    }

    func testForwardMatchesNaive() {
        for (b, n, d) in [(1, 1, 1), (2, 3, 5), (3, 13, 9), (2, 157, 771), (1, 1568, 64)] {
            let x = NaiveRef.tensor([b, n, d], seed: 1)
            let y = Tape.noGrad { meanTokens(Variable(x)) }
            XCTAssertEqual(y.shape, [b, d])
            NaiveRef.assertClose(y.value.array, naive(x), tol: 1e-5, "mean \(b)x\(n)x\(d)")
        }
    }

    func testGradientsOddShapes() {
        for (b, n, d) in [(1, 1, 1), (2, 3, 5), (3, 13, 9), (2, 7, 33), (1, 40, 3)] {
            let x = randomVar([b, n, d], seed: 2)
            assertGradients([x]) { v in meanTokens(v[0]) }
        }
    }

    func testBackwardIsUniform() {
        let x = randomVar([2, 4, 3], seed: 3)
        let y = meanTokens(x)
        y.backward(seed: Tensor(shape: [2, 3], values: [4, 8, 12, 16, 20, 24]))
        let g = x.grad!.array
        for s in 0..<2 { for t in 0..<4 { for j in 0..<3 { XCTAssertEqual(g[(s * 4 + t) * 3 + j], Float((s * 3 + j + 1)), accuracy: 1e-6) } } }
    }
}
