import DataPipeline
import Foundation
import TensorCore
import TestSupport
import XCTest

/// timm's RandAugment of the original's fine-tuning: the spec, the draws, the operations (point
/// operations against PIL's own output) and the same operations on every frame of a clip.
final class RandAugmentTests: TempDirTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/randaugment_pil.json").path

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

}
