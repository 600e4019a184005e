import DataPipeline
import Foundation
import TensorCore
import TestSupport
import XCTest

/// `data.horizontal_flip` / `data.min_crop_area`: from the config to the fine-tuning crop.
final class FlipOptionTests: TempDirTestCase {
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
