import Autodiff
import Foundation
import NN
import TensorCore
import TestSupport
import VideoMAE
import XCTest

@testable import ExitStatus
@testable import RunConfig
@testable import Training

/// Mixup / cutmix as timm's Mixup (mode "batch") and mixup_target, on small hand-checkable
/// batches; the Beta sampler; determinism; and that mixing off is exactly the plain path.
final class MixupTests: XCTestCase {
    /// A [B, T, C, H, W] batch whose every element is distinct.
    func batch(_ b: Int, t: Int = 2, c: Int = 3, h: Int = 6, w: Int = 8, seed: UInt64 = 1) -> Tensor {
        var rng = RNG(seed: seed)
        let x = Tensor(uninitialized: [b, t, c, h, w])
        rng.fillUniform(x, low: -2, high: 2)
        return x
    }

    // MARK: mixup

    func testMixupIsLamTimesXPlusOneMinusLamTimesTheReversedBatch() {
        for b in [4, 3, 1] {   // odd: the middle sample mixes with itself
            let x = batch(b), per = x.count / b
            let lam = 0.3
            let out = Mixup.mixed(x, MixDraw(kind: .mixup, lam: lam, box: nil))
            XCTAssertEqual(out.shape, x.shape)
            for s in 0..<b {
                for i in 0..<per {
                    let want = lam * Double(x[flat: s * per + i]) + (1 - lam) * Double(x[flat: (b - 1 - s) * per + i])
                    XCTAssertEqual(Double(out[flat: s * per + i]), want, accuracy: 1e-6, "b \(b) sample \(s) elem \(i)")
                }
            }
        }
        // the input is left alone (the loader's tensor is not written)
        let x = batch(2), before = x.array
        _ = Mixup.mixed(x, MixDraw(kind: .mixup, lam: 0.5, box: nil))
        XCTAssertEqual(x.array, before)
        // sample 0 of a 2-batch at lam 0.25: a hand-checked element
        let y = Tensor(shape: [2, 1, 1, 1, 2], values: [1, 2, 10, 20])
        XCTAssertEqual(Mixup.mixed(y, MixDraw(kind: .mixup, lam: 0.25, box: nil)).array, [7.75, 15.5, 3.25, 6.5])
    }

    func testMixupOnlySettingsAlwaysMixWithABetaLam() {
        let s = MixupSettings(mixup: 0.8, cutmix: 0)
        var kinds: Set<MixDraw.Kind> = []
        for step in 0..<200 {
            var rng = Mixup.rng(seed: 1, step: step, rank: 0)
            let d = Mixup.draw(s, height: 6, width: 8, rng: &rng)
            kinds.insert(d.kind)
            XCTAssertGreaterThan(d.lam, 0)
            XCTAssertLessThan(d.lam, 1)
            XCTAssertNil(d.box)
        }
        XCTAssertEqual(kinds, [.mixup])
    }

    // MARK: cutmix

    /// timm's rand_bbox: cut = int(H·√(1−lam)), centre uniform, half-sides cut//2, clipped.
    func testRandBoxIsTimmsBox() {
        for seed in 0..<50 as Range<UInt64> {
            var rng = RNG(seed: seed)
            var probe = rng
            let cy = probe.int(below: 8), cx = probe.int(below: 10)
            // lam 0.75: √0.25 = 0.5, cut 4 × 5, half-sides 2 and 2
            let box = Mixup.randBox(height: 8, width: 10, lam: 0.75, rng: &rng)
            XCTAssertEqual(box, CutBox(y0: max(cy - 2, 0), y1: min(cy + 2, 8), x0: max(cx - 2, 0), x1: min(cx + 2, 10)), "seed \(seed)")
            XCTAssertEqual(rng, probe, "two draws: cy then cx")
        }
        // lam 1: an empty box; lam 0: the whole image at most (clipped)
        var rng = RNG(seed: 3)
        XCTAssertEqual(Mixup.randBox(height: 8, width: 10, lam: 1, rng: &rng).area, 0)
        let full = Mixup.randBox(height: 8, width: 10, lam: 0, rng: &rng)
        XCTAssertLessThanOrEqual(full.area, 80)
        XCTAssertTrue(full.y0 >= 0 && full.y1 <= 8 && full.x0 >= 0 && full.x1 <= 10)
    }

    func testCutmixTakesTheBoxFromThePartnerOnEveryFrameAndChannelAndCorrectsLam() {
        let s = MixupSettings(mixup: 0, cutmix: 1.0)
        let (b, t, c, h, w) = (4, 3, 2, 6, 8)
        let x = batch(b, t: t, c: c, h: h, w: w, seed: 5)
        var nonEmpty = 0
        for step in 0..<40 {
            var rng = Mixup.rng(seed: 9, step: step, rank: 0)
            let d = Mixup.draw(s, height: h, width: w, rng: &rng)
            XCTAssertEqual(d.kind, .cutmix)
            guard let box = d.box else { XCTFail("cutmix without a box"); continue }
            XCTAssertEqual(d.lam, 1 - Double(box.area) / Double(h * w), accuracy: 1e-12, "lam is 1 − box area fraction")
            if box.area > 0 { nonEmpty += 1 }
            let out = Mixup.mixed(x, d)
            for sample in 0..<b { for f in 0..<t { for ch in 0..<c { for y in 0..<h { for xx in 0..<w {
                let i = (((sample * t + f) * c + ch) * h + y) * w + xx
                let partner = ((((b - 1 - sample) * t + f) * c + ch) * h + y) * w + xx
                let inside = y >= box.y0 && y < box.y1 && xx >= box.x0 && xx < box.x1
                XCTAssertEqual(out[flat: i], x[flat: inside ? partner : i],
                               "step \(step) sample \(sample) frame \(f) channel \(ch) (\(y), \(xx)) inside \(inside)")
            } } } } }
        }
        XCTAssertGreaterThan(nonEmpty, 20, "most draws cut a real box")
    }

    func testBothOnSwitchesBetweenCutmixAndMixupAboutHalfTheTime() {
        let s = MixupSettings(mixup: 0.8, cutmix: 1.0, prob: 1, switchProb: 0.5)
        var cut = 0, mix = 0
        for step in 0..<2000 {
            var rng = Mixup.rng(seed: 2, step: step, rank: 0)
            switch Mixup.draw(s, height: 16, width: 16, rng: &rng).kind {
            case .cutmix: cut += 1
            case .mixup: mix += 1
            case .none: break
            }
        }
        XCTAssertEqual(Double(cut) / 2000, 0.5, accuracy: 0.05)
        XCTAssertEqual(cut + mix, 2000, "mixup_prob 1: every batch is mixed")
        // mixup_prob 0.25: about three batches in four are left alone
        let rare = MixupSettings(mixup: 0.8, cutmix: 1.0, prob: 0.25, switchProb: 0.5)
        var mixed = 0
        for step in 0..<2000 {
            var rng = Mixup.rng(seed: 2, step: step, rank: 0)
            if Mixup.draw(rare, height: 16, width: 16, rng: &rng).kind != .none { mixed += 1 }
        }
        XCTAssertEqual(Double(mixed) / 2000, 0.25, accuracy: 0.04)
    }

    // MARK: the Beta sampler

    func testGammaAndBetaMoments() {
        var rng = RNG(seed: 11)
        let n = 40_000
        for a in [0.3, 0.8, 1.0, 2.5] {
            var s = 0.0, s2 = 0.0
            for _ in 0..<n { let g = Mixup.gamma(a, rng: &rng); XCTAssertGreaterThanOrEqual(g, 0); s += g; s2 += g * g }
            let mean = s / Double(n), variance = s2 / Double(n) - mean * mean
            XCTAssertEqual(mean, a, accuracy: 0.04 * max(1, a), "Gamma(\(a)) mean")
            XCTAssertEqual(variance, a, accuracy: 0.08 * max(1, a), "Gamma(\(a)) variance")
        }
        for a in [0.8, 1.0, 4.0] {
            var s = 0.0, s2 = 0.0
            for _ in 0..<n {
                let x = Mixup.beta(a, rng: &rng)
                XCTAssertTrue(x >= 0 && x <= 1)
                s += x; s2 += x * x
            }
            let mean = s / Double(n), variance = s2 / Double(n) - mean * mean
            XCTAssertEqual(mean, 0.5, accuracy: 0.01, "Beta(\(a), \(a)) mean")
            XCTAssertEqual(variance, 1 / (4 * (2 * a + 1)), accuracy: 0.006, "Beta(\(a), \(a)) variance")
        }
        // Beta(1, 1) is uniform: a quarter of the mass below 0.25
        var below = 0
        for _ in 0..<n where Mixup.beta(1, rng: &rng) < 0.25 { below += 1 }
        XCTAssertEqual(Double(below) / Double(n), 0.25, accuracy: 0.01)
    }

    // MARK: targets

    /// timm's mixup_target on labels [0, 2, 1], K 3, lam 0.7, smoothing 0.1: off 1/30, on 28/30.
    func testTargetsAreTimmsMixupTarget() {
        let t = Mixup.targets(labels: [0, 2, 1], classes: 3, lam: 0.7, smoothing: 0.1)
        XCTAssertEqual(t.shape, [3, 3])
        let want: [Double] = [0.7 * 28 / 30 + 0.3 / 30, 0.7 / 30 + 0.3 * 28 / 30, 1.0 / 30,   // y 0, partner 1
                              1.0 / 30, 1.0 / 30, 28.0 / 30,                                    // y 2, partner 2 (itself)
                              0.3 * 28 / 30 + 0.7 / 30, 0.7 * 28 / 30 + 0.3 / 30, 1.0 / 30]     // y 1, partner 0
        for (a, b) in zip(t.array, want) { XCTAssertEqual(Double(a), b, accuracy: 1e-6) }
        XCTAssertEqual(Double(t[flat: 0]), 0.663333, accuracy: 1e-6)
        XCTAssertEqual(Double(t[flat: 1]), 0.303333, accuracy: 1e-6)
        // every row sums to 1, for any lam and smoothing
        var rng = RNG(seed: 4)
        for _ in 0..<20 {
            let b = 1 + rng.int(below: 9), k = 1 + rng.int(below: 12)
            let labels = (0..<b).map { _ in rng.int(below: k) }
            let lam = rng.uniformDouble(), s = rng.uniformDouble() * 0.5
            let tt = Mixup.targets(labels: labels, classes: k, lam: lam, smoothing: s)
            for r in 0..<b {
                var sum = 0.0
                for j in 0..<k { sum += Double(tt[flat: r * k + j]); XCTAssertGreaterThanOrEqual(tt[flat: r * k + j], 0) }
                XCTAssertEqual(sum, 1, accuracy: 1e-5)
            }
        }
        // lam 1: one-hot with smoothing
        XCTAssertEqual(Mixup.targets(labels: [1, 0], classes: 2, lam: 1, smoothing: 0).array, [0, 1, 1, 0])
    }

    /// Soft-target cross-entropy on mixed targets (no smoothing) is lam·CE(y) + (1 − lam)·CE(partner's y).
    func testTheMixedLossIsTheLamWeightedSumOfTheTwoLabelsLosses() {
        var rng = RNG(seed: 6)
        let logits = Tensor(uninitialized: [5, 4])
        rng.fillUniform(logits, low: -3, high: 3)
        let labels = [0, 3, 1, 1, 2], lam = 0.35
        let t = Mixup.targets(labels: labels, classes: 4, lam: lam, smoothing: 0)
        let soft = Tape.noGrad { softTargetCrossEntropy(Variable(logits), targets: t) }.value[flat: 0]
        let own = Tape.noGrad { crossEntropy(Variable(logits), labels: labels, smoothing: 0) }.value[flat: 0]
        let other = Tape.noGrad { crossEntropy(Variable(logits), labels: labels.reversed(), smoothing: 0) }.value[flat: 0]
        XCTAssertEqual(Double(soft), lam * Double(own) + (1 - lam) * Double(other), accuracy: 1e-5)
    }

    func testAccuracyCountsTheDominantLabel() {
        XCTAssertEqual(Mixup.dominantLabels([0, 1, 2], lam: 0.5), [0, 1, 2])
        XCTAssertEqual(Mixup.dominantLabels([0, 1, 2], lam: 0.8), [0, 1, 2])
        XCTAssertEqual(Mixup.dominantLabels([0, 1, 2], lam: 0.49), [2, 1, 0])
    }

    // MARK: determinism and off

    func testTheSameSeedAndStepGiveTheSameDrawsAndPixels() {
        let s = MixupSettings(mixup: 0.8, cutmix: 1.0)
        let x = batch(4, seed: 8)
        func run(_ seed: UInt64, _ step: Int, _ rank: Int) -> MixedBatch {
            var rng = Mixup.rng(seed: seed, step: step, rank: rank)
            return Mixup.apply(s, pixels: x, labels: [0, 1, 2, 0], classes: 3, smoothing: 0.1, rng: &rng)
        }
        var lams: Set<Double> = []
        for step in 0..<20 {
            let a = run(3, step, 0), b = run(3, step, 0)
            XCTAssertEqual(a.draw, b.draw, "step \(step)")
            XCTAssertEqual(a.pixels.array, b.pixels.array)
            XCTAssertEqual(a.targets?.array, b.targets?.array)
            lams.insert(a.draw.lam)
        }
        XCTAssertGreaterThan(lams.count, 10, "the steps draw different lams (cutmix's are box fractions and may repeat)")
        XCTAssertNotEqual(run(3, 5, 0).draw, run(3, 5, 1).draw, "each rank has its own stream")
        XCTAssertNotEqual(run(3, 5, 0).draw, run(4, 5, 0).draw, "the seed matters")
    }

    func testMixingOffLeavesTheBatchAndDrawsNothing() {
        let x = batch(4, seed: 2)
        for s in [MixupSettings(mixup: 0, cutmix: 0), MixupSettings(mixup: 0.8, cutmix: 1, prob: 0)] {
            XCTAssertFalse(s.enabled)
            var rng = RNG(seed: 1)
            let before = rng
            let m = Mixup.apply(s, pixels: x, labels: [2, 0, 1, 1], classes: 3, smoothing: 0.1, rng: &rng)
            XCTAssertTrue(m.pixels === x)
            XCTAssertNil(m.targets)
            XCTAssertEqual(m.accuracyLabels, [2, 0, 1, 1])
            XCTAssertEqual(rng, before)
        }
    }

    /// A fine-tuning run with mixing off takes exactly the plain path: its first loss is the
    /// smoothed hard-label cross-entropy of the first batch, bit for bit, and mixup_prob 0 runs the
    /// same steps as mixup = cutmix = 0. With the defaults (on) the first loss differs.
    func testMixingOffIsExactlyThePlainLossInARun() throws {
        let dir = TT.scratch("mixup-off", self)
        func cfg(_ name: String, _ finetune: [String: Any]) throws -> TrainConfig {
            try ftRunConfig(task: "finetune", dir: dir + "/" + name, extra: [
                "model": ["num_classes": 3], "optim": ["max_steps": 3, "batch_size": 4], "finetune": finetune,
            ])
        }
        let off = try cfg("off", ["mixup": 0.0, "cutmix": 0.0])
        let a = try Trainer(config: off, quiet: true).run()
        let b = try Trainer(config: try cfg("prob0", ["mixup_prob": 0.0]), quiet: true).run()
        let on = try Trainer(config: try cfg("on", [:]), quiet: true).run()
        XCTAssertEqual(a.losses.count, 3)
        XCTAssertEqual(a.losses, b.losses)

        // the first step by hand: the same model, batch and drop-path draws, crossEntropy(smoothing)
        let seed = UInt64(bitPattern: Int64(off.seed))
        let model = Classifier(off.modelConfig(numClasses: 3))
        model.initialize(seed: seed)
        let loader = BatchLoader(dataset: try makeTrainDataset(off), batchSize: 4, seed: seed, workers: 0,
                                 repeats: off.finetune.num_sample)
        let first = try loader.next(step: 0, lastStep: 3)
        let loss = Tape.noGrad {
            crossEntropy(model.logits(Variable(first.pixels), ForwardContext(training: true, rng: RNG(seed, 0, 0xD409))),
                         labels: first.labels, smoothing: Float(off.optim.label_smoothing))
        }
        XCTAssertEqual(a.losses[0], Double(loss.value[flat: 0]))
        XCTAssertNotEqual(on.losses[0], a.losses[0])
        XCTAssertTrue(on.losses.allSatisfy(\.isFinite))
    }

    // MARK: config

    func testConfigDefaultsAndRefusals() throws {
        let d = try TrainConfig.load(path: nil, overrides: ["task=finetune"])
        XCTAssertEqual(d.finetune.mixup, 0.8)
        XCTAssertEqual(d.finetune.cutmix, 1.0)
        XCTAssertEqual(d.finetune.mixup_prob, 1.0)
        XCTAssertEqual(d.finetune.mixup_switch_prob, 0.5)
        XCTAssertTrue(MixupSettings(d.finetune).enabled)
        for (set, key) in [("finetune.mixup=-0.5", "finetune.mixup:"), ("finetune.cutmix=-1", "finetune.cutmix:"),
                           ("finetune.mixup_prob=1.5", "finetune.mixup_prob:"), ("finetune.mixup_switch_prob=-0.1", "finetune.mixup_switch_prob:")] {
            XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["task=finetune", set])) { e in
                let m = (e as? UserError)?.message ?? "\(e)"
                XCTAssertTrue(m.contains(key), "\(set): \(m)")
            }
        }
        XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["task=finetune", "finetune.mixupp=0.2"])) { e in
            XCTAssertTrue("\(e)".contains("did you mean 'finetune.mixup'"), "\(e)")
        }
        XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["task=finetune", "finetune.cutmix=big"])) { e in
            XCTAssertTrue("\(e)".contains("finetune.cutmix"), "\(e)")
        }
        let off = try TrainConfig.load(path: nil, overrides: ["task=finetune", "finetune.mixup=0", "finetune.cutmix=0"])
        XCTAssertFalse(MixupSettings(off.finetune).enabled)
    }
}
