import DataPipeline
import Foundation
import TensorCore
import XCTest

@testable import RunConfig

/// timm's RandomErasing as the original's fine-tuning applies it: per frame, one rectangle of noise.
final class RandomErasingTests: TempDirTestCase {
    /// The rectangle: inside the frame, 2%–1/3 of its area (up to rounding of the sides), aspect
    /// ratio within [0.3, 1/0.3] (up to rounding), drawn with the given probability.
    func testTheBoxFollowsTimmsBounds() {
        let H = 40, W = 56
        var rng = RNG(seed: 11)
        var drawn = 0
        for _ in 0..<4000 {
            guard let b = RandomErasing.box(height: H, width: W, probability: 0.25, rng: &rng) else { continue }
            drawn += 1
            XCTAssertTrue(b.top >= 0 && b.left >= 0 && b.top + b.height <= H && b.left + b.width <= W, "\(b)")
            XCTAssertTrue(b.height < H && b.width < W, "\(b)")
            let area = Double(b.height * b.width), full = Double(H * W)
            // sides are rounded: allow half a pixel on each
            let hi = (Double(b.height) + 0.5) * (Double(b.width) + 0.5), lo = (Double(b.height) - 0.5) * (Double(b.width) - 0.5)
            XCTAssertTrue(hi >= 0.02 * full && lo <= full / 3, "area \(area) of \(full)")
            let aspect = Double(b.height) / Double(b.width)
            XCTAssertTrue(aspect >= 0.3 * 0.8 && aspect <= 1 / 0.3 * 1.25, "aspect \(aspect)")
        }
        XCTAssertEqual(Double(drawn) / 4000, 0.25, accuracy: 0.03)
        for _ in 0..<100 { XCTAssertNil(RandomErasing.box(height: H, width: W, probability: 0, rng: &rng)) }
    }

    /// Each frame on its own: with p = 1 every frame of a constant clip gets one rectangle, the
    /// same on every channel, filled with standard-normal noise; the rest is untouched, and the
    /// frames' rectangles differ.
    func testEachFrameGetsItsOwnRectangleOfNoise() {
        let T = 8, C = 3, H = 24, W = 24
        let clip = Tensor(shape: [T, C, H, W], values: [Float](repeating: 7, count: T * C * H * W))
        var rng = RNG(seed: 3)
        RandomErasing.apply(clip, probability: 1, rng: &rng)
        var boxes = Set<[Int]>()
        var noise: [Double] = []
        for t in 0..<T {
            var rows = Set<Int>(), cols = Set<Int>()
            for c in 0..<C {
                var rc = Set<Int>(), cc = Set<Int>(), n = 0
                for y in 0..<H {
                    for x in 0..<W where clip.data[((t * C + c) * H + y) * W + x] != 7 {
                        rc.insert(y); cc.insert(x); n += 1
                        noise.append(Double(clip.data[((t * C + c) * H + y) * W + x]))
                    }
                }
                XCTAssertEqual(n, rc.count * cc.count, "frame \(t) channel \(c): the erased pixels are not a rectangle")
                if c == 0 { rows = rc; cols = cc } else { XCTAssertEqual(rc, rows); XCTAssertEqual(cc, cols) }
            }
            XCTAssertFalse(rows.isEmpty, "frame \(t) not erased")
            boxes.insert([rows.min() ?? -1, rows.count, cols.min() ?? -1, cols.count])
        }
        XCTAssertGreaterThan(boxes.count, 1, "every frame got the same rectangle")
        let mean = noise.reduce(0, +) / Double(noise.count)
        let sd = (noise.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(noise.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.1)
        XCTAssertEqual(sd, 1, accuracy: 0.1)
    }

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
