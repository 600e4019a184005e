import DataPipeline
import Foundation
import TensorCore
import XCTest

@testable import RunConfig

/// `data.horizontal_flip` / `data.min_crop_area`: from the config to the fine-tuning crop.
final class FlipOptionTests: TempDirTestCase {
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

    /// `minCropArea` 1: the crop always covers the whole (square) frame.
    func testMinCropAreaBoundsTheCrop() {
        for s: UInt64 in 0..<200 {
            var rng = RNG(seed: s)
            let big = ClipTransform.randomResizedCrop(width: 40, height: 40, rng: &rng, scale: 0.5...1.0, flipProbability: 0)
            XCTAssertGreaterThanOrEqual(Double(big.width * big.height), 0.5 * 1600 - 90)
            XCTAssertFalse(big.flip)
        }
    }
}
