import DataPipeline
import Foundation
import TensorCore
import TestSupport
import XCTest

@testable import RunConfig

// The augmentation keys of the config (data.horizontal_flip, data.min_crop_area, finetune.aa,
// finetune.reprob), from the config to the clips the pipeline makes.

final class FlipKeysTests: TempDirTestCase {
    func testConfigKeysReachClipOptions() throws {
        let on = clipOptions(try TrainConfig.load(path: nil, overrides: ["task=finetune"]))
        XCTAssertEqual(on.flipProbability, 0.5)
        XCTAssertEqual(on.minCropArea, 0.08)
        let off = clipOptions(try TrainConfig.load(path: nil, overrides: ["task=finetune", "data.horizontal_flip=false",
                                                                          "data.min_crop_area=0.5"]))
        XCTAssertEqual(off.flipProbability, 0)
        XCTAssertEqual(off.minCropArea, 0.5)
        XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["task=finetune", "data.min_crop_area=0"]))
    }

    /// data.cache_mib: off by default, reaches ClipOptions.cacheMiB, negative refused with the key named.
    func testCacheKeyReachesClipOptions() throws {
        XCTAssertEqual(clipOptions(try TrainConfig.load(path: nil, overrides: [])).cacheMiB, 0)
        XCTAssertEqual(clipOptions(try TrainConfig.load(path: nil, overrides: ["data.cache_mib=1024"])).cacheMiB, 1024)
        XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["data.cache_mib=-1"])) { e in
            XCTAssertTrue("\(e)".contains("data.cache_mib"), "\(e)")
        }
    }

    /// [T, C, H, W] mirrored along W.
    func mirrored(_ t: Tensor) -> [Float] {
        let s = t.shape, w = s[3], a = t.array
        var out = a
        for row in 0..<(a.count / w) {
            for x in 0..<w { out[row * w + x] = a[row * w + (w - 1 - x)] }
        }
        return out
    }

    func close(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) < 1e-4 }
    }

    /// The flip draw is taken whatever the probability, so the same (seed, epoch, index) gives
    /// the same crop: with p = 1 every sample is the mirror of the p = 0 one. With the flip off
    /// no sample over many epochs is mirrored; with it on (p = 0.5) some are and some are not.
    func testFinetuneSamplesAreNeverMirroredWithFlipOff() throws {
        _ = try SyntheticVideos.generate(out: path("syn"), classes: 2, clipsPerClass: 2, size: 32, frames: 24, seed: 3, valPerClass: 0)
        let list = try VideoList.load(path("syn/train.csv"))
        func ds(_ flip: Bool?) throws -> VideoClipDataset {
            // erasing off: it would paint different noise into the clips this test compares
            var cfg = try TrainConfig.load(path: nil, overrides: ["task=finetune", "data.num_frames=4", "data.sampling_rate=2",
                                                                  "data.input_size=32", "finetune.reprob=0"])
            if let flip { cfg.data.horizontal_flip = flip }
            var o = clipOptions(cfg)
            if flip == nil { o.flipProbability = 1 }   // always mirrored: the reference
            return try VideoClipDataset(list: list, options: o, mode: .finetune)
        }
        let off = try ds(false), on = try ds(true), always = try ds(nil)
        var flippedOn = 0, plainOn = 0
        for epoch in 0..<12 {
            for i in 0..<off.count {
                let a = try off.sample(index: i, epoch: epoch, seed: 5).pixels
                let m = try always.sample(index: i, epoch: epoch, seed: 5).pixels
                XCTAssertTrue(close(mirrored(a), m.array), "epoch \(epoch) index \(i): not the same crop")
                XCTAssertFalse(close(a.array, m.array), "epoch \(epoch) index \(i): clip is mirror-symmetric, test says nothing")
                let b = try on.sample(index: i, epoch: epoch, seed: 5).pixels.array
                if close(b, a.array) { plainOn += 1 } else if close(b, m.array) { flippedOn += 1 } else { XCTFail("neither") }
            }
        }
        XCTAssertGreaterThan(flippedOn, 0)
        XCTAssertGreaterThan(plainOn, 0)
    }
}

final class RandAugmentKeysTests: TempDirTestCase {
    func testTheSpecParsesAsTimmAndBadOnesAreRefused() throws {
        let ra = try RandAugment(spec: "rand-m7-n4-mstd0.5-inc1")
        XCTAssertEqual(ra.numOps, 4)
        XCTAssertEqual(ra.magnitude, 7)
        XCTAssertEqual(ra.magnitudeStd, 0.5)
        XCTAssertTrue(ra.increasing)
        XCTAssertFalse(try RandAugment(spec: "rand-m9").increasing)
        XCTAssertEqual(try RandAugment(spec: "rand-m9").numOps, 2)
        for bad in ["autoaug-m7", "rand-x3", "rand-n1.5", "rand-m-1", "rand-mstd"] {
            XCTAssertThrowsError(try RandAugment(spec: bad), bad)
        }
        let cfg = try TrainConfig.load(path: nil, overrides: ["task=finetune"])
        XCTAssertEqual(cfg.finetune.aa, "rand-m7-n4-mstd0.5-inc1")
        XCTAssertEqual(clipOptions(cfg).randAugment, ra)
        XCTAssertNil(clipOptions(try TrainConfig.load(path: nil, overrides: ["task=finetune", "finetune.aa=none"])).randAugment)
        XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["task=finetune", "finetune.aa=rand-q2"])) { e in
            XCTAssertTrue("\(e)".contains("finetune.aa") && "\(e)".contains("q2"), "\(e)")
        }
    }

    /// A clip: the same operations on every frame (a clip of equal frames stays a clip of equal
    /// frames, changed); in the dataset only fine-tuning clips are augmented.
    func testEveryFrameGetsTheSameOperationsAndOnlyFineTuningClips() throws {
        let ra = try RandAugment(spec: "rand-m7-n4-mstd0.5-inc1")
        let w = 16, h = 12, T = 5
        var one = [UInt8](repeating: 0, count: w * h * 3)
        for i in 0..<one.count { one[i] = UInt8((i * 53 + i / 7) % 256) }
        var changed = 0
        for s: UInt64 in 0..<20 {
            var clip = [UInt8]((0..<T).map { _ in one }.joined())
            var rng = RNG(seed: s)
            ra.apply(&clip, count: T, width: w, height: h, rng: &rng)
            let first = Array(clip[0..<(w * h * 3)])
            for t in 1..<T { XCTAssertEqual(Array(clip[(t * w * h * 3)..<((t + 1) * w * h * 3)]), first, "seed \(s) frame \(t)") }
            if first != one { changed += 1 }
        }
        XCTAssertGreaterThan(changed, 10)

        _ = try SyntheticVideos.generate(out: path("syn"), classes: 2, clipsPerClass: 1, size: 32, frames: 24, seed: 3, valPerClass: 0)
        let list = try VideoList.load(path("syn/train.csv"))
        func ds(_ aa: String, _ mode: ClipMode) throws -> VideoClipDataset {
            let cfg = try TrainConfig.load(path: nil, overrides: ["task=finetune", "data.num_frames=4", "data.sampling_rate=2",
                                                                  "data.input_size=32", "finetune.reprob=0", "finetune.aa=\(aa)"])
            return try VideoClipDataset(list: list, options: clipOptions(cfg), mode: mode)
        }
        var differs = 0
        for epoch in 0..<6 {
            let a = try ds("none", .finetune).sample(index: 0, epoch: epoch, seed: 2).pixels.array
            let b = try ds("rand-m7-n4-mstd0.5-inc1", .finetune).sample(index: 0, epoch: epoch, seed: 2).pixels.array
            if a != b { differs += 1 }
        }
        XCTAssertGreaterThan(differs, 2)
        XCTAssertEqual(try ds("none", .evalCentre).sample(index: 1, epoch: 0, seed: 2).pixels.array,
                       try ds("rand-m7-n4-mstd0.5-inc1", .evalCentre).sample(index: 1, epoch: 0, seed: 2).pixels.array)
    }
}

final class RandomErasingKeysTests: TempDirTestCase {
    /// `finetune.reprob` (the original's 0.25 by default) reaches fine-tuning clips, after the same
    /// crop and flip draws: a clip with p = 1 equals the p = 0 clip outside its rectangles. It is
    /// refused outside [0, 1], and evaluation clips are never erased.
    func testFinetuneClipsAreErasedAfterTheCropAndEvalClipsNever() throws {
        XCTAssertEqual(try TrainConfig.load(path: nil, overrides: ["task=finetune"]).finetune.reprob, 0.25)
        XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["task=finetune", "finetune.reprob=1.5"])) { e in
            XCTAssertTrue("\(e)".contains("finetune.reprob"), "\(e)")
        }
        _ = try SyntheticVideos.generate(out: path("syn"), classes: 2, clipsPerClass: 2, size: 32, frames: 24, seed: 3, valPerClass: 0)
        let list = try VideoList.load(path("syn/train.csv"))
        func ds(_ p: Double, _ mode: ClipMode) throws -> VideoClipDataset {
            let cfg = try TrainConfig.load(path: nil, overrides: ["task=finetune", "data.num_frames=4", "data.sampling_rate=2",
                                                                  "data.input_size=32", "finetune.reprob=\(p)"])
            XCTAssertEqual(clipOptions(cfg).eraseProbability, p)
            return try VideoClipDataset(list: list, options: clipOptions(cfg), mode: mode)
        }
        let plain = try ds(0, .finetune), erased = try ds(1, .finetune)
        for i in 0..<plain.count {
            let a = try plain.sample(index: i, epoch: 2, seed: 9).pixels, b = try erased.sample(index: i, epoch: 2, seed: 9).pixels
            let (T, C, H, W) = (a.shape[0], a.shape[1], a.shape[2], a.shape[3])
            for t in 0..<T {
                var rows = Set<Int>(), cols = Set<Int>(), n = 0
                for y in 0..<H {
                    for x in 0..<W where (0..<C).contains(where: { a.data[((t * C + $0) * H + y) * W + x] != b.data[((t * C + $0) * H + y) * W + x] }) {
                        rows.insert(y); cols.insert(x); n += 1
                    }
                }
                XCTAssertGreaterThan(n, 0, "clip \(i) frame \(t) not erased")
                XCTAssertEqual(n, rows.count * cols.count, "clip \(i) frame \(t): differs outside one rectangle")
            }
        }
        let evalPlain = try ds(0, .evalCentre), evalErased = try ds(1, .evalCentre)
        XCTAssertEqual(try evalPlain.sample(index: 0, epoch: 0, seed: 9).pixels.array,
                       try evalErased.sample(index: 0, epoch: 0, seed: 9).pixels.array)
    }
}
