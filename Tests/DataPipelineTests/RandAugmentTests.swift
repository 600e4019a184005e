import DataPipeline
import Foundation
import TensorCore
import XCTest

@testable import RunConfig

/// timm's RandAugment of the original's fine-tuning: the spec, the draws, the operations (point
/// operations against PIL's own output) and the same operations on every frame of a clip.
final class RandAugmentTests: TempDirTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/randaugment_pil.json").path

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

    /// The draws: about half of the n operations are applied (p = 0.5 each), with timm's ranges
    /// at magnitudes within [0, 10]; the same RNG state gives the same steps.
    func testTheDrawsFollowTimmsLevels() throws {
        let ra = try RandAugment(spec: "rand-m7-n4-mstd0.5-inc1")
        var rng = RNG(seed: 1)
        var steps = 0
        var seen = Set<RandAugment.Op>()
        for _ in 0..<2000 {
            let s = ra.draw(rng: &rng)
            steps += s.count
            for st in s {
                seen.insert(st.op)
                switch st.op {
                case .rotate: XCTAssertTrue(abs(st.value) <= 30 && abs(st.value) >= 15, "\(st)")   // m 7 ± a few std
                case .shearX, .shearY: XCTAssertTrue(abs(st.value) <= 0.3, "\(st)")
                case .translateX, .translateY: XCTAssertTrue(abs(st.value) <= 0.45, "\(st)")
                case .posterize: XCTAssertTrue((0...2).contains(Int(st.value)), "\(st)")   // 4 − int(4·level)
                case .solarize: XCTAssertTrue(st.value >= 0 && st.value <= 256 - 128, "\(st)")
                case .solarizeAdd: XCTAssertTrue(st.value >= 55 && st.value <= 110, "\(st)")
                case .color, .contrast, .brightness, .sharpness: XCTAssertTrue(abs(st.value - 1) <= 0.9 && abs(st.value - 1) >= 0.45, "\(st)")
                default: XCTAssertEqual(st.value, 0)
                }
            }
        }
        XCTAssertEqual(Double(steps) / 2000, 2, accuracy: 0.15)
        XCTAssertEqual(seen.count, RandAugment.Op.allCases.count)
        var a = RNG(seed: 5), b = RNG(seed: 5)
        XCTAssertEqual(ra.draw(rng: &a), ra.draw(rng: &b))
    }

    /// Invert, posterize, solarize, solarize-add, autocontrast, equalize and the four
    /// enhancements equal PIL's output byte for byte (Tools/parity/make_randaugment_fixture.py).
    func testPointOperationsEqualPIL() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture))
        let j = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let w = j["width"] as! Int, h = j["height"] as! Int
        let input = (j["input"] as! [Int]).map(UInt8.init)
        let cases = j["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 15)
        for c in cases {
            let name = c["op"] as! String, value = (c["value"] as! NSNumber).doubleValue
            let op = try XCTUnwrap(RandAugment.Op(rawValue: name), name)
            var frame = input
            frame.withUnsafeMutableBufferPointer { RandAugment.run(.init(op: op, value: value), $0.baseAddress!, width: w, height: h) }
            let want = (c["output"] as! [Int]).map(UInt8.init)
            let off = zip(frame, want).filter { $0 != $1 }.count
            XCTAssertEqual(off, 0, "\(name) \(value): \(off) of \(want.count) bytes differ from PIL")
        }
    }

    /// Geometry: zero arguments change nothing; a translation by one column shifts the frame by
    /// one pixel and fills grey 128; a 180° turn mirrors both axes.
    func testGeometricOperations() {
        let w = 6, h = 4
        let frame = (0..<(w * h * 3)).map { UInt8(($0 * 37) % 251) }
        func run(_ op: RandAugment.Op, _ v: Double) -> [UInt8] {
            var f = frame
            f.withUnsafeMutableBufferPointer { RandAugment.run(.init(op: op, value: v), $0.baseAddress!, width: w, height: h) }
            return f
        }
        for op in [RandAugment.Op.rotate, .shearX, .shearY, .translateX, .translateY] { XCTAssertEqual(run(op, 0), frame, "\(op)") }
        let shifted = run(.translateX, 1.0 / Double(w))
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    XCTAssertEqual(shifted[(y * w + x) * 3 + c], x == w - 1 ? 128 : frame[(y * w + x + 1) * 3 + c], "(\(x), \(y))")
                }
            }
        }
        let turned = run(.rotate, 180)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 { XCTAssertEqual(turned[(y * w + x) * 3 + c], frame[((h - 1 - y) * w + (w - 1 - x)) * 3 + c]) }
            }
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
