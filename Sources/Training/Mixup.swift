import Foundation
import RunConfig
import TensorCore

// Mixup and cutmix for fine-tuning, as the original VideoMAE's run_class_finetuning.py does with
// timm's `Mixup(mixup_alpha=0.8, cutmix_alpha=1.0, cutmix_minmax=None, prob=1.0, switch_prob=0.5,
// mode='batch', label_smoothing=s)` followed by `SoftTargetCrossEntropy`:
//   • with probability `mixup_prob` the batch is mixed, else lam = 1 (targets: smoothed one-hot);
//   • both α > 0: cutmix with probability `mixup_switch_prob`, else mixup; one α > 0: that one;
//   • mixup: lam ~ Beta(α, α);  x[b] ← lam·x[b] + (1 − lam)·x[B−1−b]   (timm's x.flip(0));
//   • cutmix: lam ~ Beta(α, α); a box as timm's rand_bbox (cut = ⌊H·√(1−lam)⌋ × ⌊W·√(1−lam)⌋,
//     centre uniform over the H × W pixels, half-sides cut/2 clipped to the image), the same box on
//     every frame and channel, its pixels taken from x[B−1−b]; lam ← 1 − box area / (H·W);
//   • targets (timm's mixup_target): off = s/K, on = 1 − s + off,
//     t[b] = lam·one_hot(y[b], on, off) + (1 − lam)·one_hot(y[B−1−b], on, off).
// One lam and one box per batch (mode "batch"). An odd batch is allowed: its middle sample is its
// own partner (timm asserts an even batch). The original applies timm's 4-D slice
// `x[:, :, yl:yh, xl:xh]` to its 5-D [B, C, T, H, W] clips, which cuts along T and H; here the box
// is the H × W box timm means, on every frame (as its area correction assumes).
// Every draw comes from `Mixup.rng(seed:step:rank:)`, so resume stays bitwise exact; each rank of
// a data-parallel run mixes its own local batch with its own stream (as DDP with timm does).

/// The four `finetune.*` keys of mixing.
struct MixupSettings: Equatable {
    var mixup: Double
    var cutmix: Double
    var prob: Double
    var switchProb: Double

    init(mixup: Double, cutmix: Double, prob: Double = 1, switchProb: Double = 0.5) {
        self.mixup = mixup; self.cutmix = cutmix; self.prob = prob; self.switchProb = switchProb
    }

    init(_ f: TrainConfig.Finetune) {
        self.init(mixup: f.mixup, cutmix: f.cutmix, prob: f.mixup_prob, switchProb: f.mixup_switch_prob)
    }

    /// Off: hard labels and the plain smoothed cross-entropy, exactly as without mixing.
    var enabled: Bool { prob > 0 && (mixup > 0 || cutmix > 0) }
}

/// A box of rows y0..<y1 and columns x0..<x1 (half-open, as a Python slice).
struct CutBox: Equatable {
    var y0: Int, y1: Int, x0: Int, x1: Int
    var area: Int { (y1 - y0) * (x1 - x0) }
}

/// One batch's draw: what is done and the weight of each sample's own label.
struct MixDraw: Equatable {
    enum Kind: String { case none, mixup, cutmix }
    var kind: Kind
    var lam: Double
    var box: CutBox?

    static let none = MixDraw(kind: .none, lam: 1, box: nil)
}

/// A batch after mixing: the pixels the model sees, the soft targets of the loss (nil when mixing
/// is off: the caller uses the hard labels), and the labels train accuracy counts.
struct MixedBatch {
    var pixels: Tensor
    var targets: Tensor?
    var accuracyLabels: [Int]
    var draw: MixDraw
}

enum Mixup {
    /// The stream of a step's draws on one rank, from (seed, step, rank) only.
    static func rng(seed: UInt64, step: Int, rank: Int) -> RNG { RNG(seed, UInt64(step), 0x3A1C_5EED, UInt64(rank)) }

    /// Mixes a batch: pixels [B, …, H, W] (the loader's [B, T, C, H, W]; any layout whose last two
    /// axes are the image's), labels [B] in 0..<classes. Mixing off returns the batch untouched
    /// with no targets and draws nothing.
    static func apply(_ s: MixupSettings, pixels: Tensor, labels: [Int], classes: Int, smoothing: Double,
                      rng: inout RNG) -> MixedBatch {
        guard s.enabled else { return MixedBatch(pixels: pixels, targets: nil, accuracyLabels: labels, draw: .none) }
        let shape = pixels.shape
        precondition(shape.count >= 3 && shape[0] == labels.count, "mixup: pixels \(shape) for \(labels.count) labels")
        let d = draw(s, height: shape[shape.count - 2], width: shape[shape.count - 1], rng: &rng)
        return MixedBatch(pixels: mixed(pixels, d), targets: targets(labels: labels, classes: classes, lam: d.lam, smoothing: smoothing),
                          accuracyLabels: dominantLabels(labels, lam: d.lam), draw: d)
    }

    /// timm's `_params_per_batch` then, for cutmix, `cutmix_bbox_and_lam` (correct_lam, no minmax),
    /// drawing in the same order: the mix-or-not coin, the switch coin (both α > 0), lam, the box centre (y, x).
    static func draw(_ s: MixupSettings, height h: Int, width w: Int, rng: inout RNG) -> MixDraw {
        guard s.enabled, rng.uniformDouble() < s.prob else { return .none }
        let useCutmix: Bool
        if s.mixup > 0 && s.cutmix > 0 {
            useCutmix = rng.uniformDouble() < s.switchProb
        } else {
            useCutmix = s.cutmix > 0
        }
        let lam = beta(useCutmix ? s.cutmix : s.mixup, rng: &rng)
        if lam == 1 { return .none }   // timm: nothing to mix
        guard useCutmix else { return MixDraw(kind: .mixup, lam: lam, box: nil) }
        let box = randBox(height: h, width: w, lam: lam, rng: &rng)
        return MixDraw(kind: .cutmix, lam: 1 - Double(box.area) / Double(h * w), box: box)
    }

    /// timm's rand_bbox (margin 0): cut_h = int(H·√(1−lam)), centre cy uniform in 0..<H, rows
    /// clip(cy − cut_h//2, 0, H) ..< clip(cy + cut_h//2, 0, H); the same across.
    static func randBox(height h: Int, width w: Int, lam: Double, rng: inout RNG) -> CutBox {
        let ratio = (1 - lam).squareRoot()
        let cutH = Int(Double(h) * ratio), cutW = Int(Double(w) * ratio)
        let cy = rng.int(below: h), cx = rng.int(below: w)
        func clip(_ v: Int, _ hi: Int) -> Int { min(max(v, 0), hi) }
        return CutBox(y0: clip(cy - cutH / 2, h), y1: clip(cy + cutH / 2, h), x0: clip(cx - cutW / 2, w), x1: clip(cx + cutW / 2, w))
    }

    /// The mixed pixels (a new tensor; `x` itself when there is nothing to mix). Sample b's partner
    /// is B−1−b. Mixup: lam·x[b] + (1 − lam)·x[B−1−b] in float32; cutmix: x[b] with the box of
    /// every H × W plane taken from x[B−1−b].
    static func mixed(_ x: Tensor, _ d: MixDraw) -> Tensor {
        guard d.kind != .none, x.count > 0 else { return x }
        let shape = x.shape
        let b = shape[0], h = shape[shape.count - 2], w = shape[shape.count - 1]
        let per = x.count / b, planes = per / (h * w)
        let out = Tensor(uninitialized: shape)
        let src = UnsafePointer(x.data), dst = out.data
        switch d.kind {
        case .mixup:
            let l = Float(d.lam), m = Float(1 - d.lam)
            parallelFor(b, minChunk: 1) { r in
                for s in r {
                    let a = src + s * per, p = src + (b - 1 - s) * per, o = dst + s * per
                    for i in 0..<per { o[i] = l * a[i] + m * p[i] }
                }
            }
        case .cutmix:
            let box = d.box!
            let width = box.x1 - box.x0
            dst.update(from: src, count: x.count)
            if width > 0 {
                parallelFor(b, minChunk: 1) { r in
                    for s in r {
                        let p = src + (b - 1 - s) * per, o = dst + s * per
                        for plane in 0..<planes {
                            for y in box.y0..<box.y1 {
                                let at = plane * h * w + y * w + box.x0
                                (o + at).update(from: p + at, count: width)
                            }
                        }
                    }
                }
            }
        case .none:
            break
        }
        return out
    }

    /// timm's mixup_target: [B, K] with t[b] = lam·one_hot(y[b], on, off) + (1 − lam)·one_hot(y[B−1−b], on, off),
    /// off = smoothing/K, on = 1 − smoothing + off (computed in double, stored as float).
    static func targets(labels: [Int], classes k: Int, lam: Double, smoothing: Double) -> Tensor {
        let b = labels.count
        let off = smoothing / Double(k), on = 1 - smoothing + off
        let t = Tensor(uninitialized: [b, k])
        for s in 0..<b {
            let y1 = labels[s], y2 = labels[b - 1 - s]
            for j in 0..<k {
                let v1 = j == y1 ? on : off, v2 = j == y2 ? on : off
                t.data[s * k + j] = Float(v1 * lam + v2 * (1 - lam))
            }
        }
        return t
    }

    /// The label that weighs most in each mixed sample: its own when lam ≥ 0.5, else its partner's.
    static func dominantLabels(_ labels: [Int], lam: Double) -> [Int] {
        lam >= 0.5 ? labels : Array(labels.reversed())
    }

    // ---- Beta(α, β) from two Gamma draws --------------------------------------------------

    /// Beta(a, b) = X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b) (numpy's way for these α). If both
    /// underflow to 0 (only for tiny α), the mass sits at the ends: 0 or 1 with equal chance.
    static func beta(_ a: Double, _ b: Double? = nil, rng: inout RNG) -> Double {
        let x = gamma(a, rng: &rng), y = gamma(b ?? a, rng: &rng)
        let s = x + y
        if !(s > 0) { return rng.uniformDouble() < 0.5 ? 0 : 1 }
        return x / s
    }

    /// Gamma(shape a, scale 1), Marsaglia & Tsang (2000), "A simple method for generating gamma
    /// variables": for a ≥ 1, d = a − 1/3, c = 1/√(9d); repeat x ~ N(0, 1), v = (1 + c·x)³ until
    /// v > 0 and (u < 1 − 0.0331·x⁴ or log u < x²/2 + d·(1 − v + log v)), u ~ U(0, 1); return d·v.
    /// For a < 1: Gamma(a + 1) · U^(1/a).
    static func gamma(_ a: Double, rng: inout RNG) -> Double {
        precondition(a > 0, "gamma: shape \(a) must be positive")
        if a < 1 {
            let u = rng.uniformDouble()
            return gamma(a + 1, rng: &rng) * Foundation.pow(u, 1 / a)
        }
        let d = a - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat {
                x = rng.normalDouble()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = rng.uniformDouble()
            if u < 1 - 0.0331 * (x * x) * (x * x) { return d * v }
            if u > 0, Foundation.log(u) < 0.5 * x * x + d * (1 - v + Foundation.log(v)) { return d * v }
        }
    }
}
