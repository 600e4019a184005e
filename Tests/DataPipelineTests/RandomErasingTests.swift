import DataPipeline
import Foundation
import TensorCore
import TestSupport
import XCTest

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

}
