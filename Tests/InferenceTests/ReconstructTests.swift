import Autodiff
import Checkpoint
import Foundation
import NN
import TensorCore
import TestSupport
import VideoIO
import VideoMAE
import XCTest

@testable import ExitStatus
@testable import Inference
@testable import Pictures
@testable import RunConfig
@testable import Training

/// `vmae reconstruct` on a tiny model (TestSupport's tinyConfig: encoder 32 wide, depth 2; patch
/// 8, tubelet 2; 4 frames of 32 px: 2 × 16 = 32 tokens). The pictures a run writes at each
/// checkpoint: TrainingTests/CheckpointPicturesTests.
final class ReconstructTests: PictureFolderTestCase {
    /// A 64 × 48 video of 16 frames with a moving pattern (so the crop and the frames matter).
    func writeVideo(_ name: String, width: Int = 64, height: Int = 48, frames: Int = 16) throws -> String {
        let p = path(name)
        let w = try VideoWriter(path: p, width: width, height: height, fps: 8)
        for f in 0 ..< frames {
            var rgb = [UInt8](repeating: 0, count: width * height * 3)
            for y in 0 ..< height {
                for x in 0 ..< width {
                    let i = (y * width + x) * 3
                    rgb[i] = UInt8((x * 4 + f * 8) % 256)
                    rgb[i + 1] = UInt8((y * 5) % 256)
                    rgb[i + 2] = ((x / 8 + y / 8 + f / 2) % 2 == 0) ? 40 : 210
                }
            }
            try w.write(rgb: rgb)
        }
        try w.close()
        return p
    }

    /// Trains the tiny model a few steps on random clips; returns the last checkpoint's path.
    func trainedCheckpoint(_ sets: [String] = []) throws -> String {
        let cfg = try tinyConfig(sets)
        let s = try Trainer(config: cfg, quiet: true).run()
        return try XCTUnwrap(s.checkpoint)
    }

    /// The 8×8 squares of frame `f` covered by token n's tubelet.
    func tokenOf(frame f: Int, x: Int, y: Int, t: Int = 2, p: Int = 8, wp: Int = 4) -> Int {
        (f / t) * (wp * wp) + (y / p) * wp + x / p
    }

    func assertUserError(_ contains: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("no error", file: file, line: line)
        } catch let e as UserError {
            XCTAssertFalse(e.message.contains("\n"), "one line: \(e.message)", file: file, line: line)
            for c in contains { XCTAssertTrue(e.message.contains(c), "'\(e.message)' lacks '\(c)'", file: file, line: line) }
        } catch {
            XCTFail("not a UserError: \(error)", file: file, line: line)
        }
    }

    // MARK: vmae reconstruct

    func testReconstructionDiffersFromTheInputExactlyWhereTubeletsWereHidden() throws {
        let ck = try trainedCheckpoint()
        let video = try writeVideo("clip.mp4")
        let out = path("recon.png")
        var lines: [String] = []
        let r = try runReconstruct(checkpoint: ck, video: video, out: out, seed: 5, write: { lines.append($0) })

        // The PNG decodes to the picture's size: a title line over three rows of four frames.
        let img = try PNGImage.read(path: out)
        let (grid, layout) = ReconstructionGrid.render(rows: [r.original, r.maskedInput, r.reconstruction],
                                                      labels: Reconstructor.rowLabels)
        XCTAssertEqual(layout.columns, [0, 1, 2, 3])
        XCTAssertEqual(layout.cells[2][0].width, 96)   // 32-pixel frames shown 3× larger
        XCTAssertEqual(img.width, grid.width)
        let strip = img.height - grid.height           // the title line: 10 + 9 · scale pixels
        XCTAssertTrue(strip == 19 || strip == 28, "title strip \(strip)")
        // The picture's bottom row is the reconstruction.
        let cell = layout.cells[2][1]
        for (x, y) in [(0, 0), (31, 31), (17, 9)] {
            let px = cell.x + x * 3 + 1, py = strip + cell.y + y * 3 + 1
            let i = (py * img.width + px) * 3
            XCTAssertEqual(RGBColor(img.rgb[i], img.rgb[i + 1], img.rgb[i + 2]), r.reconstruction[1][x, y])
        }
        XCTAssertTrue(lines[0].hasPrefix("masked-pixel MSE "), lines[0])
        XCTAssertTrue(lines[1].contains(out), lines[1])

        // The original row is the video's centre clip (frames 4, 6, 8, 10 of 16 at rate 2),
        // short side resized to 32, centre crop.
        let reader = try VideoReader(path: video)
        let dec = try reader.frames([4, 6, 8, 10], width: 43, height: 32)
        XCTAssertEqual(r.original.count, 4)
        for f in 0 ..< 4 {
            var crop = [UInt8]()
            for y in 0 ..< 32 {
                let start: Int = ((f * 32 + y) * 43 + 5) * 3
                crop += dec[start ..< start + 32 * 3]
            }
            XCTAssertEqual(r.original[f].rgb, crop, "frame \(f)")
        }

        // 75% tube masking: 12 of 16 positions, in both temporal groups.
        XCTAssertEqual(r.maskedCount, 24)
        XCTAssertEqual(Array(r.mask[0 ..< 16]), Array(r.mask[16 ..< 32]))
        var differs = [Bool](repeating: false, count: 32)
        for f in 0 ..< 4 {
            for y in 0 ..< 32 {
                for x in 0 ..< 32 {
                    let n = tokenOf(frame: f, x: x, y: y)
                    let o = r.original[f][x, y], rec = r.reconstruction[f][x, y], m = r.maskedInput[f][x, y]
                    if r.mask[n] {
                        if o != rec { differs[n] = true }
                        XCTAssertEqual(m, .maskGrey)
                    } else {
                        XCTAssertEqual(rec, o, "visible token \(n), frame \(f), (\(x), \(y))")
                        XCTAssertEqual(m, o)
                    }
                }
            }
        }
        for n in 0 ..< 32 where r.mask[n] { XCTAssertTrue(differs[n], "hidden token \(n) is reproduced exactly") }

        // The printed MSE is the training loss on this clip and mask.
        let rm = try ReconstructionModel(checkpoint: ck)
        let clip = try ReconstructClip.load(video: video, cfg: rm.cfg)
        let loss = Tape.noGrad {
            rm.model.loss(clip.reshaped([1, 4, 3, 32, 32]), mask: Mask(masked: [r.mask]), ForwardContext.inference())
        }
        XCTAssertEqual(r.mse, Double(loss.value[flat: 0]), accuracy: 1e-5 * max(1, r.mse))
        XCTAssertTrue(lines[0].contains(String(format: "%.4f", r.mse)))

        // Same seed, same mask; another seed, another mask.
        let again = try runReconstruct(checkpoint: ck, video: video, out: path("again.png"), seed: 5, write: { _ in })
        XCTAssertEqual(again.mask, r.mask)
        XCTAssertEqual(again.reconstruction, r.reconstruction)
        let other = try runReconstruct(checkpoint: ck, video: video, out: path("other.png"), seed: 6, mask: "random",
                                       ratio: 0.5, write: { _ in })
        XCTAssertNotEqual(other.mask, r.mask)
        XCTAssertEqual(other.maskedCount, 16)
    }

    func testHiddenTubeletsAreReconstructedWithoutTheirOwnPixels() throws {
        for normalize in [true, false] {
            let model = tinyModel(normalizeTarget: normalize)
            var rng = RNG(seed: 11)
            let clip = Tensor(uninitialized: [4, 3, 32, 32])
            rng.fillNormal(clip)
            for mask in [MaskGenerator(.tube, ratio: 0.75, config: model.config).sample(&rng),
                         MaskGenerator(.random, ratio: 0.6, config: model.config).sample(&rng)] {
                let a = Reconstructor.reconstruct(model: model, clip: clip, mask: mask)
                // Scramble every hidden tubelet's true pixels (values and statistics).
                let changed = clip.copy()
                for f in 0 ..< 4 {
                    for c in 0 ..< 3 {
                        for y in 0 ..< 32 {
                            for x in 0 ..< 32 where mask[tokenOf(frame: f, x: x, y: y)] {
                                changed.data[((f * 3 + c) * 32 + y) * 32 + x] = 3 * rng.normal() + 1
                            }
                        }
                    }
                }
                let b = Reconstructor.reconstruct(model: model, clip: changed, mask: mask)
                XCTAssertEqual(a.pixels, b.pixels, "normalize_target \(normalize)")
                XCTAssertEqual(a.reconstruction, b.reconstruction)
                XCTAssertEqual(a.maskedInput, b.maskedInput)
                XCTAssertNotEqual(a.original, b.original)
                XCTAssertNotEqual(a.mse, b.mse)
            }
        }
    }

    func testStatisticsComeFromTheNearestVisibleTubeletsOfTheSameGroup() {
        // 2 groups of 4×4 positions; group 0: only tokens 0 and 15 visible; group 1: all hidden.
        var mask = [Bool](repeating: true, count: 32)
        mask[0] = false
        mask[15] = false
        let s = Reconstructor.statisticSources(mask: mask, spatialTokens: 16, gridWidth: 4)
        XCTAssertEqual(s.count, 30)
        XCTAssertEqual(s[1], [0, 15])
        XCTAssertEqual(s[20], [0, 15])   // a group with nothing visible: every visible token of the clip
        var many = [Bool](repeating: false, count: 32)
        many[5] = true
        many[16 + 5] = true
        let t = Reconstructor.statisticSources(mask: many, spatialTokens: 16, gridWidth: 4)
        XCTAssertEqual(t[5], [1, 4, 6, 9])         // distance 1, in index order
        XCTAssertEqual(t[21], [17, 20, 22, 25])    // its own temporal group
        for (n, src) in s.merging(t, uniquingKeysWith: { a, _ in a }) {
            XCTAssertFalse(src.contains(n))
        }
        for src in s.values { XCTAssertTrue(src.allSatisfy { !mask[$0] }) }
        for src in t.values { XCTAssertTrue(src.allSatisfy { !many[$0] }) }
    }

    func testBadInputIsAOneLineUserError() throws {
        let ck = try trainedCheckpoint()
        let video = try writeVideo("v.mp4")
        let out = path("x.png")
        func run(_ c: String = "", v: String = "", mask: String? = nil, ratio: Double? = nil) throws {
            try runReconstruct(checkpoint: c.isEmpty ? ck : c, video: v.isEmpty ? video : v, out: out, mask: mask,
                               ratio: ratio, write: { _ in })
        }
        assertUserError([path("none.mp4"), "cannot decode"]) { try run(v: self.path("none.mp4")) }
        try "not a video".write(toFile: path("text.mp4"), atomically: true, encoding: .utf8)
        assertUserError([path("text.mp4"), "cannot decode"]) { try run(v: self.path("text.mp4")) }
        assertUserError([path("none.h5")]) { try run(path("none.h5")) }
        assertUserError(["--ratio"]) { try run(ratio: 1.0) }
        assertUserError(["--ratio"]) { try run(ratio: 0) }
        assertUserError(["--ratio"]) { try run(ratio: -0.5) }
        assertUserError(["--ratio 0.01", "hides no tubelet"]) { try run(ratio: 0.01) }
        assertUserError(["--mask"]) { try run(mask: "box") }
        // A fine-tuning checkpoint has no decoder.
        let cfg = try tinyConfig(["task=finetune"])
        let fine = Checkpoint(task: "finetune", step: 1, epoch: 0, config: cfg.json(), model: [])
        try fine.write(to: path("fine.h5"))
        assertUserError([path("fine.h5"), "pretraining checkpoint"]) { try run(path("fine.h5")) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
