import XCTest
import TensorCore
import Autodiff

final class ScatterTokensTests: XCTestCase {
    func testGradientsOddShapes() {
        for (b, n, bigN, d) in [(1, 1, 1, 1), (2, 3, 7, 5), (3, 5, 9, 17)] {
            var rng = RNG(seed: UInt64(b * 100 + n))
            let rows = (0..<b).map { _ in Array(rng.permutation(bigN).prefix(n)) }
            let index = TokenIndex(rows, tokens: bigN)
            let x = randomVar([b, n, d], seed: 7)
            assertGradients([x]) { v in scatterTokens(v[0], index) }
        }
    }

    func testPlacesRowsAndZerosTheRest() {
        let x = randomVar([2, 2, 3], seed: 3)
        let index = TokenIndex([[4, 1], [0, 2]], tokens: 5)
        let y = Tape.noGrad { scatterTokens(x, index) }
        XCTAssertEqual(y.shape, [2, 5, 3])
        for b in 0..<2 {
            for tok in 0..<5 {
                let pos = index.row(b).firstIndex(of: tok)
                for j in 0..<3 {
                    let want = pos.map { x.value[flat: (b * 2 + $0) * 3 + j] } ?? 0
                    XCTAssertEqual(y.value[flat: (b * 5 + tok) * 3 + j], want)
                }
            }
        }
    }

    func testRepeatedIndicesAddUp() {
        let x = Variable(Tensor(shape: [1, 2, 1], values: [2, 5]), requiresGrad: true)
        let y = Tape.noGrad { scatterTokens(x, TokenIndex([[1, 1]], tokens: 3)) }
        XCTAssertEqual(y.value.array, [0, 7, 0])
    }

    /// Gather after scatter gives back the input (unique indices).
    func testInverseOfGather() {
        let x = randomVar([2, 3, 4], seed: 5)
        let index = TokenIndex([[0, 5, 2], [4, 1, 3]], tokens: 6)
        let back = Tape.noGrad { gatherTokens(scatterTokens(x, index), index) }
        XCTAssertEqual(back.value.array, x.value.array)
    }
}
