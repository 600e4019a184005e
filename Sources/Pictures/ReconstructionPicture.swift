import Autodiff
import Foundation
import NN
import TensorCore
import VideoMAE

// Masked reconstructions a person can look at: the clip, what the encoder was shown, and
// what the decoder made of the rest.
//
// HONESTY. The reconstruction of a hidden tubelet never uses that tubelet's own pixels or
// statistics:
//   • the prediction comes from the model, whose encoder sees the visible tokens only and
//     whose decoder sees mask tokens and positions (PretrainModel.predict);
//   • when the model predicts normalized patches (normalize_target), each predicted hidden
//     tubelet is un-normalized, per channel, as  x = pred · (σ + 1e-6) + μ  (the inverse of
//     the target's normalization), with μ and σ estimated from VISIBLE tubelets only:
//     the average of the per-tubelet channel means, and of the per-tubelet channel standard
//     deviations (unbiased, as in the targets), of the `neighbourCount` (4) visible tubelets
//     of the same temporal group nearest in space (Euclidean distance on the patch grid, ties
//     to the lower token index). When a temporal group has no visible tubelet (possible with
//     random masking), the average over every visible tubelet of the clip is used instead.
//   • without normalize_target the prediction is in pixel units already and is used as is.
// Visible tubelets are pasted back from the original clip, so they match it exactly.
//
// Pixel values: the model's input is normalized, v = (x − mean)/std with x = 8-bit/255; the
// pictures show x (clamped to 0…1) as 8-bit RGB.

/// The three rows of a reconstruction picture and the clip's masked-pixel error.
public struct Reconstruction {
    /// Token mask, `true` = hidden (the model's token order: time-major, then row, then column).
    public let mask: [Bool]
    /// The clip's frames (un-normalized input).
    public let original: [RGBFrame]
    /// The frames with hidden tubelets painted grey: what the encoder was shown.
    public let maskedInput: [RGBFrame]
    /// Visible tubelets from the original, hidden ones predicted.
    public let reconstruction: [RGBFrame]
    /// Mean squared error over the hidden tubelets in the model's target space (normalized
    /// patches when normalize_target): the training loss on this clip and mask.
    public let mse: Double
    /// The reconstruction in pixel units (x = v·std + mean, not clamped), `[T, C, H, W]` flat.
    public let pixels: [Float]
    /// Whether predictions were un-normalized with neighbour statistics.
    public let normalizedTargets: Bool

    public var maskedCount: Int { mask.filter { $0 }.count }
    public var tokenCount: Int { mask.count }
}

public enum Reconstructor {
    /// How many visible neighbours lend their statistics to a hidden tubelet.
    public static let neighbourCount = 4

    /// Reconstructs `clip` (`[T, C, H, W]` or `[1, T, C, H, W]`, normalized with the model's
    /// mean/std, the model's frame count and size) under `mask` (one entry per token, at least
    /// one hidden and one visible).
    public static func reconstruct(model: PretrainModel, clip: Tensor, mask: [Bool]) -> Reconstruction {
        let c = model.config
        let shape = clip.shape.count == 5 ? Array(clip.shape.dropFirst()) : clip.shape
        precondition(shape.count == 4 && (clip.shape.count == 4 || clip.shape[0] == 1), "clip shape \(clip.shape)")
        let (T, C, H, W) = (shape[0], shape[1], shape[2], shape[3])
        precondition(T == c.num_frames && C == c.in_chans && H == c.img_size && W == c.img_size,
                     "clip \(shape) does not fit the model (\(c.num_frames) frames of \(c.in_chans)×\(c.img_size)²)")
        precondition(mask.count == c.tokens, "mask of \(mask.count) tokens for a model of \(c.tokens)")
        let nm = mask.filter { $0 }.count
        precondition(nm > 0 && nm < mask.count, "the mask must hide some tokens and show some")
        let t = c.tubelet_size, p = c.patch_size
        let wp = W / p, ns = (H / p) * wp
        let row = t * p * p * C
        let input = clip.reshaped([1, T, C, H, W])
        let m = Mask(masked: [mask])
        let hidden = m.maskedIndex[0]

        // Prediction (no tape: inference) and the training loss's target.
        let pred = Tape.noGrad { model.predict(Variable(input), mask: m, ForwardContext.inference()) }.value  // [1, nm, row]
        let target = pixelTargets(input, tokens: m.maskedIndex, tubelet: t, patch: p, mean: model.mean, std: model.std,
                                  normalize: c.normalize_target)
        var se: Double = 0
        for i in 0 ..< pred.count { let d = Double(pred.data[i]) - Double(target.data[i]); se += d * d }
        let mse = se / Double(max(pred.count, 1))

        // The clip in pixel units.
        let plane = H * W
        var x = [Float](repeating: 0, count: T * C * plane)
        for f in 0 ..< T {
            for ch in 0 ..< C {
                let s = model.std[ch], mu = model.mean[ch]
                let base = (f * C + ch) * plane
                for i in 0 ..< plane { x[base + i] = clip.data[base + i] * s + mu }
            }
        }

        // Visible tubelets' statistics, and each hidden tubelet's sources.
        let stats = c.normalize_target ? visibleStatistics(x, frames: T, channels: C, height: H, width: W,
                                                           tubelet: t, patch: p, mask: mask) : nil
        let sources = c.normalize_target ? statisticSources(mask: mask, spatialTokens: ns, gridWidth: wp) : [:]

        var recon = x
        for (k, n) in hidden.enumerated() {
            let g = n / ns, y = (n % ns) / wp, xx = n % wp
            let o = k * row
            for ch in 0 ..< C {
                var mu: Float = 0, sd: Float = 0
                if let stats, let src = sources[n] {
                    var sm: Double = 0, ss: Double = 0
                    for j in src { sm += stats.mean[j * C + ch]; ss += stats.sd[j * C + ch] }
                    mu = Float(sm / Double(src.count))
                    sd = Float(ss / Double(src.count))
                }
                for dt in 0 ..< t {
                    for dy in 0 ..< p {
                        let base = ((g * t + dt) * C + ch) * plane + (y * p + dy) * W + xx * p
                        for dx in 0 ..< p {
                            var v = pred.data[o + ((dt * p + dy) * p + dx) * C + ch]
                            if stats != nil { v = v * (sd + 1e-6) + mu }
                            recon[base + dx] = v
                        }
                    }
                }
            }
        }

        let original = rgbFrames(x, frames: T, channels: C, height: H, width: W)
        let masked = ReconstructionGrid.greyOutMasked(original, patchSize: p, tubeletSize: t, mask: mask, strength: 1)
        return Reconstruction(mask: mask, original: original, maskedInput: masked,
                              reconstruction: rgbFrames(recon, frames: T, channels: C, height: H, width: W), mse: mse,
                              pixels: recon, normalizedTargets: c.normalize_target)
    }

    /// Per visible token and channel: the mean and unbiased standard deviation of its
    /// `t·p·p` pixels (`[N·C]`, token-major; entries of hidden tokens are NaN and never read).
    static func visibleStatistics(_ x: [Float], frames T: Int, channels C: Int, height H: Int, width W: Int,
                                  tubelet t: Int, patch p: Int, mask: [Bool]) -> (mean: [Double], sd: [Double]) {
        let wp = W / p, ns = (H / p) * wp, tpp = t * p * p
        var mean = [Double](repeating: .nan, count: mask.count * C), sd = mean
        for n in mask.indices where !mask[n] {
            let g = n / ns, y = (n % ns) / wp, xx = n % wp
            for ch in 0 ..< C {
                var sum: Double = 0, sq: Double = 0
                for dt in 0 ..< t {
                    for dy in 0 ..< p {
                        let base = ((g * t + dt) * C + ch) * H * W + (y * p + dy) * W + xx * p
                        for dx in 0 ..< p { let v = Double(x[base + dx]); sum += v; sq += v * v }
                    }
                }
                let mu = sum / Double(tpp)
                let v = max(0, sq - Double(tpp) * mu * mu) / Double(max(tpp - 1, 1))
                mean[n * C + ch] = mu
                sd[n * C + ch] = v.squareRoot()
            }
        }
        return (mean, sd)
    }

    /// For each hidden token, the visible tokens whose statistics un-normalize its prediction:
    /// the `neighbourCount` visible tokens of its temporal group nearest on the patch grid
    /// (ties to the lower index), or every visible token of the clip when its group has none.
    /// Never a hidden token.
    public static func statisticSources(mask: [Bool], spatialTokens ns: Int, gridWidth wp: Int) -> [Int: [Int]] {
        let allVisible = mask.indices.filter { !mask[$0] }
        var out: [Int: [Int]] = [:]
        for n in mask.indices where mask[n] {
            let g = n / ns, y = (n % ns) / wp, x = n % wp
            let group = (g * ns ..< (g + 1) * ns).filter { !mask[$0] }
            guard !group.isEmpty else { out[n] = allVisible; continue }
            func distance(_ j: Int) -> Int {
                let dy: Int = (j % ns) / wp - y
                let dx: Int = j % wp - x
                return dy * dy + dx * dx
            }
            let near: [Int] = group.sorted { (a: Int, b: Int) -> Bool in
                let da = distance(a), db = distance(b)
                return da < db || (da == db && a < b)
            }
            out[n] = Array(near.prefix(neighbourCount))
        }
        return out
    }

    /// Pixel-unit frames `[T, C, H, W]` as 8-bit RGB (one channel: grey; more than three: the first three).
    static func rgbFrames(_ x: [Float], frames T: Int, channels C: Int, height H: Int, width W: Int) -> [RGBFrame] {
        let plane = H * W
        return (0 ..< T).map { f in
            var rgb = [UInt8](repeating: 0, count: plane * 3)
            for k in 0 ..< 3 {
                let base = (f * C + min(k, C - 1)) * plane
                for i in 0 ..< plane {
                    let v = x[base + i]
                    rgb[i * 3 + k] = v.isFinite ? UInt8(min(255, max(0, (v * 255).rounded()))) : 0
                }
            }
            return RGBFrame(width: W, height: H, rgb: rgb)
        }
    }

    // MARK: pictures

    /// Draws the grid (original, masked input, reconstruction; one column per frame, at most
    /// `maxWidth` pixels wide) under a title line, and writes it to `out` as a PNG. Returns the
    /// picture's size.
    @discardableResult
    public static func draw(_ r: Reconstruction, title: String, out: String, maxWidth: Int = 2000) throws -> (width: Int, height: Int) {
        let canvas = render(r, title: title, maxWidth: maxWidth)
        try canvas.save(path: out)
        return (canvas.width, canvas.height)
    }

    public static let rowLabels = ["original", "masked input", "reconstruction"]

    public static func render(_ r: Reconstruction, title: String, maxWidth: Int = 2000) -> Canvas {
        let (grid, _) = ReconstructionGrid.render(rows: [r.original, r.maskedInput, r.reconstruction], labels: rowLabels,
                                                  maxWidth: maxWidth)
        guard !title.isEmpty else { return grid }
        let margin = 10
        var scale = 2
        if BitmapFont.textWidth(title, scale: 2) > grid.width - 2 * margin { scale = 1 }
        let strip = margin + BitmapFont.cellHeight * scale
        var canvas = Canvas(width: grid.width, height: grid.height + strip, background: ReconstructionGrid.background)
        canvas.blit(grid.frame, x: 0, y: strip)
        canvas.drawText(x: margin, y: margin, title, color: ReconstructionGrid.ink, scale: scale)
        return canvas
    }

    /// "masked-pixel MSE 0.8123 (normalized targets) · 1411/1568 tubelets hidden (tube 90%)"
    public static func summary(_ r: Reconstruction, maskType: String, ratio: Double) -> String {
        String(format: "masked-pixel MSE %.4f (%@) · %d/%d tubelets hidden (%@ %g%%)", r.mse,
               r.normalizedTargets ? "normalized targets" : "pixel targets", r.maskedCount, r.tokenCount, maskType,
               (ratio * 1000).rounded() / 10)
    }
}
