import XCTest
import Autodiff
import TensorCore
import VideoMAE

/// The trivial predictor's loss (`meanPredictorLoss`), the denominator of `loss_vs_mean`.
final class MeanPredictorLossTests: XCTestCase {
    /// Plain pixels, worked by hand: one clip of 1 frame, 2×2 pixels, patch 1 (4 tokens of one
    /// pixel), 2 channels; tokens 2 and 3 hidden.
    ///   channel 0 (mean 0, std 1): x = 1 2 | 3 10 → visible mean 1.5, errors 1.5², 8.5² → 74.5
    ///   channel 1 (mean 0.5, std 2): v = 0 1 | 0 0 → x = 0.5 2.5 | 0.5 0.5 → mean 1.5, errors 1, 1 → 2
    ///   loss = (74.5 + 2) / (1 clip · 2 tokens · 1 pixel · 2 channels) = 19.125
    func testPlainPixelsByHand() {
        let px = Tensor(shape: [1, 1, 2, 2, 2], values: [1, 2, 3, 10,   0, 1, 0, 0])
        let mask = Mask(masked: [[false, false, true, true]])
        let l = meanPredictorLoss(px, mask: mask, tubelet: 1, patch: 1, mean: [0, 0.5], std: [1, 2], normalize: false)
        XCTAssertEqual(l, 19.125, accuracy: 1e-9)
    }

    /// Normalized targets, worked by hand: 2 frames, 2×2 pixels, tubelet 2, patch 1 (4 tokens,
    /// each a 2-pixel tubelet), one channel; tokens 1 and 3 hidden. The trivial prediction is 0
    /// in that space (a constant tubelet normalizes to 0), so the loss is the mean squared target:
    ///   token 1: pixels 0, 1 → μ 0.5, Σ(x−μ)² = 0.5, σ = √0.5 → Σ target² = 0.5/(√0.5 + 1e-6)²
    ///   token 3: pixels 3, 3 (flat) → target 0 → 0
    ///   loss = 0.5/(√0.5 + 1e-6)² / (2 tokens · 2 pixels) ≈ 0.2499993
    func testNormalizedTargetsByHand() {
        // [B=1, T=2, C=1, H=2, W=2]: frame 0 then frame 1, pixels row by row
        let px = Tensor(shape: [1, 2, 1, 2, 2], values: [7, 0, 5, 3,   9, 1, 2, 3])
        let mask = Mask(masked: [[false, true, false, true]])
        let l = meanPredictorLoss(px, mask: mask, tubelet: 2, patch: 1, mean: [0], std: [1], normalize: true)
        let s = 0.5.squareRoot() + 1e-6
        XCTAssertEqual(l, 0.5 / (s * s) / 4, accuracy: 1e-7)
        XCTAssertEqual(l, 0.2499993, accuracy: 1e-6)
    }

    /// On a random clip, the value equals the design's loss (`mseLoss` against `pixelTargets`)
    /// of the trivial prediction built as a tensor: each sample's visible mean colour in every
    /// masked pixel (plain), and zeros (normalized).
    func testEqualsTheDesignLossOfTheConstantPrediction() {
        var c = ModelConfig()
        c.img_size = 16; c.num_frames = 4; c.patch_size = 4; c.tubelet_size = 2
        let (B, C, T, H) = (2, 3, c.num_frames, c.img_size)
        var rng = RNG(seed: 5)
        let px = Tensor(uninitialized: [B, T, C, H, H])
        rng.fillNormal(px)
        let mean = imagenetMean, std = imagenetStd
        for type in [MaskType.tube, .random] {
            let mask = MaskGenerator(type, ratio: 0.75, config: c).batch(count: B, rng: &rng)
            let tpp = c.tubelet_size * c.patch_size * c.patch_size
            for normalize in [false, true] {
                let target = pixelTargets(px, tokens: mask.maskedIndex, tubelet: c.tubelet_size, patch: c.patch_size,
                                          mean: mean, std: std, normalize: normalize)
                let pred = Tensor(zeros: target.shape)
                if !normalize {
                    // the visible tokens' un-normalized pixels, per sample and channel
                    let visible = pixelTargets(px, tokens: mask.visibleIndex, tubelet: c.tubelet_size,
                                               patch: c.patch_size, mean: mean, std: std, normalize: false)
                    let nv = mask.visibleCount, nm = mask.maskedCount
                    for b in 0..<B {
                        for ch in 0..<C {
                            var s: Double = 0
                            for n in 0..<nv { for k in 0..<tpp { s += Double(visible[flat: (b * nv + n) * tpp * C + k * C + ch]) } }
                            let m = Float(s / Double(nv * tpp))
                            for n in 0..<nm { for k in 0..<tpp { pred[flat: (b * nm + n) * tpp * C + k * C + ch] = m } }
                        }
                    }
                }
                let design = Double(Tape.noGrad { mseLoss(Variable(pred), target) }.value[flat: 0])
                let trivial = meanPredictorLoss(px, mask: mask, tubelet: c.tubelet_size, patch: c.patch_size,
                                                mean: mean, std: std, normalize: normalize)
                XCTAssertEqual(trivial, design, accuracy: 1e-5 * design, "\(type) normalize \(normalize)")
                if normalize { XCTAssertEqual(trivial, Double(tpp - 1) / Double(tpp), accuracy: 1e-4) }
            }
        }
    }
}
