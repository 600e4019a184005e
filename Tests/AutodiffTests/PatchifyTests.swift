import XCTest
import TensorCore
import Autodiff

final class PatchifyTests: XCTestCase {
    // (B, T, C, H, W, t, p): odd channel counts, odd grids, t = 1, non-square frames
    let cases = [(1, 1, 1, 1, 1, 1, 1), (2, 4, 3, 6, 10, 2, 2), (1, 3, 3, 9, 6, 3, 3),
                 (2, 2, 1, 5, 5, 1, 5), (1, 4, 2, 8, 12, 2, 4), (3, 2, 3, 4, 4, 2, 2)]

    /// patchify + linear with the Conv3d weight viewed as [D, C·t·p·p] equals Conv3d(stride = kernel)
    /// on the [B, C, T, H, W] permutation of the input, with its output flattened to tokens as
    /// PyTorch does (`proj(x).flatten(2).transpose(1, 2)`).
    func testMatchesNaiveConv3d() {
        for (b, tt, c, h, w, t, p) in cases {
            let d = 7
            let pixels = NaiveRef.tensor([b, tt, c, h, w], seed: 1)
            let weight = NaiveRef.tensor([d, c, t, p, p], seed: 2)
            let bias = NaiveRef.tensor([d], seed: 3)
            let bcthw = permute(pixels, [0, 2, 1, 3, 4])
            let conv = NaiveRef.conv3d(bcthw, weight: weight, bias: bias)    // [B, D, N]
            let n = (tt / t) * (h / p) * (w / p)
            var ref = [Double](repeating: 0, count: b * n * d)               // [B, N, D]
            for s in 0..<b { for o in 0..<d { for tok in 0..<n { ref[(s * n + tok) * d + o] = conv[(s * d + o) * n + tok] } } }

            let rows = Tape.noGrad { patchify(Variable(pixels), tubelet: t, patch: p) }
            XCTAssertEqual(rows.shape, [b, n, c * t * p * p])
            let y = Tape.noGrad { linear(rows, Variable(weight.reshaped([d, -1])), Variable(bias)) }
            NaiveRef.assertClose(y.value.array, ref, tol: 1e-5, "conv3d \(b)x\(tt)x\(c)x\(h)x\(w) t\(t) p\(p)")
        }
    }

    /// Direct index check of the layout in the contract.
    func testLayoutElementwise() {
        let (b, tt, c, h, w, t, p) = (2, 4, 3, 6, 9, 2, 3)
        let pixels = NaiveRef.tensor([b, tt, c, h, w], seed: 4)
        let rows = Tape.noGrad { patchify(Variable(pixels), tubelet: t, patch: p) }.value.array
        let px = pixels.array
        let gh = h / p, gw = w / p, n = (tt / t) * gh * gw, k = c * t * p * p
        for s in 0..<b { for i in 0..<(tt / t) { for y in 0..<gh { for x in 0..<gw {
            let tok = i * gh * gw + y * gw + x
            for ch in 0..<c { for dt in 0..<t { for dy in 0..<p { for dx in 0..<p {
                let col = ((ch * t + dt) * p + dy) * p + dx
                let src = (((s * tt + i * t + dt) * c + ch) * h + y * p + dy) * w + x * p + dx
                XCTAssertEqual(rows[(s * n + tok) * k + col], px[src])
            } } } }
        } } } }
    }

    func testGradientsOddShapes() {
        for (b, tt, c, h, w, t, p) in cases {
            let pixels = randomVar([b, tt, c, h, w], seed: 5)
            assertGradients([pixels]) { v in patchify(v[0], tubelet: t, patch: p) }
        }
    }

    /// Backward is the exact inverse permutation (every pixel in one token), and accumulates.
    func testBackwardIsInverseScatter() {
        let shape = [2, 4, 3, 8, 12]
        let pixels = randomVar(shape, seed: 6)
        let y = patchify(pixels, tubelet: 2, patch: 4)
        let seed = Tape.noGrad { patchify(Variable(pixels.value), tubelet: 2, patch: 4) }.value   // dL/drows = rows
        y.backward(seed: seed)
        XCTAssertEqual(pixels.grad!.array, pixels.value.array)
        patchify(pixels, tubelet: 2, patch: 4).backward(seed: seed)
        XCTAssertEqual(pixels.grad!.array, pixels.value.array.map { 2 * $0 })
    }

    func testLargeParallel() {
        // a ViT-ish clip: 8 frames 32×32, t=2, p=16 → 16 tokens of 1536
        let (b, tt, c, h, w, t, p) = (2, 8, 3, 32, 32, 2, 16)
        let pixels = Variable(NaiveRef.tensor([b, tt, c, h, w], seed: 7), requiresGrad: true)
        let y = patchify(pixels, tubelet: t, patch: p)
        XCTAssertEqual(y.shape, [2, 16, 1536])
        y.backward(seed: y.value)
        XCTAssertEqual(pixels.grad!.array, pixels.value.array)
    }
}
