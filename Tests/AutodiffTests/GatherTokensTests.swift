import XCTest
import TensorCore
import Autodiff

final class GatherTokensTests: XCTestCase {
    /// Random per-sample indices (with repeats when `repeats`), or distinct ones (a permutation prefix).
    func randomIndex(b: Int, nSrc: Int, n: Int, repeats: Bool, seed: UInt64) -> TokenIndex {
        var rng = RNG(seed: seed)
        let rows = (0..<b).map { _ in repeats ? (0..<n).map { _ in rng.int(below: nSrc) } : Array(rng.permutation(nSrc).prefix(n)) }
        return TokenIndex(rows, tokens: nSrc)
    }

    func testTokenIndexStorage() {
        let idx = TokenIndex([[3, 0, 2], [1, 1, 4]], tokens: 5)
        XCTAssertEqual(idx.batch, 2); XCTAssertEqual(idx.count, 3); XCTAssertEqual(idx.sourceTokens, 5)
        XCTAssertEqual(idx.rows, [[3, 0, 2], [1, 1, 4]])
        XCTAssertEqual(idx[1, 2], 4)
        XCTAssertEqual((0..<6).map { idx.pointer[$0] }, [3, 0, 2, 1, 1, 4])
        let copy = idx
        XCTAssertEqual(copy.pointer, idx.pointer, "copies share one buffer")
    }

    func testForwardMatchesNaive() {
        for (b, nSrc, n, d) in [(1, 1, 1, 1), (2, 7, 3, 5), (3, 13, 13, 9), (2, 20, 11, 33)] {
            let x = NaiveRef.tensor([b, nSrc, d], seed: 1)
            let idx = randomIndex(b: b, nSrc: nSrc, n: n, repeats: true, seed: 2)
            let y = Tape.noGrad { gatherTokens(Variable(x), idx) }
            XCTAssertEqual(y.shape, [b, n, d])
            let xs = x.array
            var ref: [Double] = []
            for s in 0..<b { for i in 0..<n { for j in 0..<d { ref.append(Double(xs[(s * nSrc + idx[s, i]) * d + j])) } } }
            NaiveRef.assertClose(y.value.array, ref, tol: 0, "gather \(b)x\(nSrc)x\(d) → \(n)")
        }
    }

    func testGradientsOddShapes() {
        for (b, nSrc, n, d) in [(1, 1, 1, 1), (2, 7, 3, 5), (3, 13, 13, 9), (2, 17, 5, 33), (1, 40, 37, 3)] {
            for repeats in [false, true] where repeats || n <= nSrc {
                let x = randomVar([b, nSrc, d], seed: 3)
                let idx = randomIndex(b: b, nSrc: nSrc, n: n, repeats: repeats, seed: 4)
                assertGradients([x]) { v in gatherTokens(v[0], idx) }
            }
        }
    }

    func testRepeatedIndicesScatterAdd() {
        let x = randomVar([2, 4, 3], seed: 5)
        let idx = TokenIndex([[1, 1, 1], [0, 3, 0]], tokens: 4)
        let y = gatherTokens(x, idx)
        y.backward(seed: Tensor(filled: 1, shape: y.shape))
        let g = x.grad!.array
        // sample 0: token 1 picked three times; sample 1: token 0 twice, token 3 once
        let expected: [Float] = [0, 0, 0, 3, 3, 3, 0, 0, 0, 0, 0, 0,
                                 2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1, 1]
        XCTAssertEqual(g, expected)
    }

    func testBackwardAccumulates() {
        let x = randomVar([2, 5, 3], seed: 6)
        let idx = TokenIndex([[4, 0], [2, 2]], tokens: 5)
        gatherTokens(x, idx).backward(seed: Tensor(filled: 1, shape: [2, 2, 3]))
        let g1 = x.grad!.array
        gatherTokens(x, idx).backward(seed: Tensor(filled: 1, shape: [2, 2, 3]))
        XCTAssertEqual(x.grad!.array, g1.map { 2 * $0 })
    }

    func testLargeParallel() {
        // big enough to take the parallel paths
        let (b, nSrc, n, d) = (3, 200, 97, 384)
        let x = NaiveRef.tensor([b, nSrc, d], seed: 7)
        let idx = randomIndex(b: b, nSrc: nSrc, n: n, repeats: true, seed: 8)
        let v = Variable(x, requiresGrad: true)
        let y = gatherTokens(v, idx)
        let seed = NaiveRef.tensor([b, n, d], seed: 9)
        y.backward(seed: seed)
        let xs = x.array, ss = seed.array
        var refY = [Double](), refG = [Double](repeating: 0, count: b * nSrc * d)
        for s in 0..<b { for i in 0..<n { for j in 0..<d {
            refY.append(Double(xs[(s * nSrc + idx[s, i]) * d + j]))
            refG[(s * nSrc + idx[s, i]) * d + j] += Double(ss[(s * n + i) * d + j])
        } } }
        NaiveRef.assertClose(y.value.array, refY, tol: 0, "forward")
        NaiveRef.assertClose(v.grad!.array, refG, tol: 1e-6, "backward")
    }
}
