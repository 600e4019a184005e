import TensorCore
import XCTest

@testable import DataPipeline

final class TransformTests: XCTestCase {
    let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]

    func render(_ rgb: [UInt8], count: Int, _ w: Int, _ h: Int, _ box: CropBox, out: Int,
                mean: [Float]? = nil, std: [Float]? = nil) -> Tensor {
        rgb.withUnsafeBufferPointer {
            ClipTransform.render(rgb: $0.baseAddress!, count: count, width: w, height: h, box: box,
                                 outWidth: out, outHeight: out, mean: mean ?? self.mean, std: std ?? self.std)
        }
    }

    func testMultiScaleCropFollowsTheOriginal() {
        // 160 × 120 frame, input 112: short side 120 → sizes 120, 105, 90, 79 (120 is not within
        // 2 px of 112); width and height at most one scale step apart.
        let sizes = [120, 105, 90, 79]
        var seen = Set<String>()
        for s in 0..<2000 {
            var rng = RNG(seed: UInt64(s))
            let b = ClipTransform.multiScaleCrop(width: 160, height: 120, inputSize: 112, rng: &rng)
            XCTAssertFalse(b.flip)
            guard let i = sizes.firstIndex(of: b.width), let j = sizes.firstIndex(of: b.height) else {
                return XCTFail("crop \(b) not from the scales")
            }
            XCTAssertLessThanOrEqual(abs(i - j), 1)
            let ws = (160 - b.width) / 4, hs = (120 - b.height) / 4
            XCTAssertTrue(b.x % max(ws, 1) == 0 && b.x <= 4 * ws, "\(b)")
            XCTAssertTrue(b.y % max(hs, 1) == 0 && b.y <= 4 * hs, "\(b)")
            seen.insert("\(b.width)x\(b.height)")
        }
        XCTAssertEqual(seen.count, 10, "4 + 3 + 3 size pairs")
        // Snapping: a 114-pixel short side gives a 112 crop at scale 1.
        var rng = RNG(seed: 3)
        var snapped = false
        for _ in 0..<200 {
            let b = ClipTransform.multiScaleCrop(width: 114, height: 114, inputSize: 112, rng: &rng)
            snapped = snapped || b.width == 112
            XCTAssertNotEqual(b.width, 114)
        }
        XCTAssertTrue(snapped)
    }

    func testRandomResizedCrop() {
        var flips = 0
        var areas: [Double] = []
        for s in 0..<1000 {
            var rng = RNG(seed: UInt64(s))
            let b = ClipTransform.randomResizedCrop(width: 160, height: 120, rng: &rng)
            XCTAssertTrue(b.x >= 0 && b.y >= 0 && b.x + b.width <= 160 && b.y + b.height <= 120, "\(b)")
            XCTAssertGreaterThan(b.width, 0)
            XCTAssertGreaterThan(b.height, 0)
            let ar = Double(b.width) / Double(b.height)
            XCTAssertTrue(ar > 0.7 && ar < 1.4, "aspect \(ar)")
            areas.append(Double(b.width * b.height) / (160 * 120))
            if b.flip { flips += 1 }
        }
        XCTAssertTrue((400...600).contains(flips), "flips \(flips)")
        XCTAssertLessThan(areas.min()!, 0.15)
        XCTAssertGreaterThan(areas.max()!, 0.9)
        // A frame too narrow for any try: the centre crop with the ratio clamped.
        var rng = RNG(seed: 1)
        let b = ClipTransform.randomResizedCrop(width: 10, height: 200, rng: &rng, scale: 0.99...1.0)
        XCTAssertEqual(b.width, 10)
        XCTAssertEqual(b.height, 13)
        XCTAssertEqual(b.y, (200 - 13) / 2)
    }

    func testEvalCrops() {
        // landscape, short side already 112: left / centre / right
        XCTAssertEqual(ClipTransform.evalCrop(width: 150, height: 112, size: 112),
                       CropBox(x: 19, y: 0, width: 112, height: 112))
        XCTAssertEqual((0..<3).map { ClipTransform.evalCrop(width: 150, height: 112, size: 112, index: $0, count: 3).x }, [0, 19, 38])
        // portrait: top / centre / bottom
        XCTAssertEqual((0..<3).map { ClipTransform.evalCrop(width: 112, height: 200, size: 112, index: $0, count: 3).y }, [0, 44, 88])
        XCTAssertEqual(ClipTransform.evalCrop(width: 112, height: 112, size: 112, index: 2, count: 3),
                       CropBox(x: 0, y: 0, width: 112, height: 112))
    }

    func testRenderShapeAndNormalization() {
        // 3 frames of 20 × 10, frame t a flat colour.
        let w = 20, h = 10
        var rgb = [UInt8]()
        let colours: [[UInt8]] = [[0, 0, 0], [255, 255, 255], [10, 128, 240]]
        for c in colours { for _ in 0..<(w * h) { rgb += c } }
        let t = render(rgb, count: 3, w, h, CropBox(x: 3, y: 1, width: 9, height: 7, flip: true), out: 16)
        XCTAssertEqual(t.shape, [3, 3, 16, 16])
        for f in 0..<3 {
            for c in 0..<3 {
                let want = (Float(colours[f][c]) / 255 - mean[c]) / std[c]
                let p = t.data + (f * 3 + c) * 256
                for i in 0..<256 { XCTAssertEqual(p[i], want, accuracy: 1e-4) }
            }
        }
        let lo = (0..<3).map { -mean[$0] / std[$0] }.min()!, hi = (0..<3).map { (1 - mean[$0]) / std[$0] }.max()!
        XCTAssertTrue(t.array.allSatisfy { $0 >= lo - 1e-4 && $0 <= hi + 1e-4 })
    }

    func testRenderIdentityCropAndFlip() {
        // A crop the size of the output is copied exactly; flipped, mirrored.
        let w = 12, h = 9
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { rgb[(y * w + x) * 3 + c] = UInt8(x * 20 + y * 3 + c) } } }
        let box = CropBox(x: 2, y: 1, width: 8, height: 8)
        let unit: [Float] = [0, 0, 0], one: [Float] = [1 / 255.0, 1 / 255.0, 1 / 255.0]
        let t = render(rgb, count: 1, w, h, box, out: 8, mean: unit, std: one)
        var f = box
        f.flip = true
        let m = render(rgb, count: 1, w, h, f, out: 8, mean: unit, std: one)
        for c in 0..<3 {
            for y in 0..<8 {
                for x in 0..<8 {
                    let v = Float((x + 2) * 20 + (y + 1) * 3 + c)
                    XCTAssertEqual(t.data[(c * 8 + y) * 8 + x], v, accuracy: 1e-3)
                    XCTAssertEqual(m.data[(c * 8 + y) * 8 + (7 - x)], v, accuracy: 1e-3)
                }
            }
        }
    }

    func testRenderResizesSmoothly() {
        // A horizontal ramp shrunk 3× and enlarged 2× stays a monotone ramp within its range.
        let w = 96, h = 4
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { rgb[(y * w + x) * 3 + c] = UInt8(x * 2 + 30) } } }
        let id: [Float] = [0, 0, 0], one: [Float] = [1 / 255.0, 1 / 255.0, 1 / 255.0]
        for out in [32, 192] {
            let t = render(rgb, count: 1, w, h, CropBox(x: 0, y: 0, width: w, height: h), out: out, mean: id, std: one)
            let row = (0..<out).map { t.data[$0] }
            XCTAssertEqual(row, row.sorted(), "monotone at \(out)")
            XCTAssertGreaterThanOrEqual(row.first!, 30 - 1e-3)
            XCTAssertLessThanOrEqual(row.last!, Float(2 * (w - 1) + 30) + 1e-3)
            let mid = Float(2 * (w / 2) + 30 - 1)  // the ramp's middle
            XCTAssertEqual(row[out / 2 - 1] / 2 + row[out / 2] / 2, mid, accuracy: 2)
        }
    }

    func testTapsSumToOne() {
        for (n, o) in [(7, 7), (160, 112), (112, 160), (300, 17), (5, 64)] {
            let taps = ResampleTaps(length: n, outLength: o, reverse: false)
            for i in 0..<o {
                let s = (0..<taps.n[i]).reduce(Float(0)) { $0 + taps.weights[i * taps.maxTaps + $1] }
                XCTAssertEqual(s, 1, accuracy: 1e-5)
                XCTAssertTrue(taps.start[i] >= 0 && taps.start[i] + taps.n[i] <= n)
            }
        }
    }
}
