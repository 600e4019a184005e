import XCTest

@testable import RunConfig

/// `mask.decoder_ratio` (VideoMAE V2 running-cell decoder masking): 0 by default, V2's 0.5
/// accepted on an even token grid, impossible values refused with the key's path.
final class DecoderRatioConfigTests: XCTestCase {
    func testDefaultOffAndV2Accepted() throws {
        XCTAssertEqual(try TrainConfig.load(path: nil).mask.decoder_ratio, 0)
        // 224 / 16 = 14 tokens a side: even
        XCTAssertEqual(try TrainConfig.load(path: nil, overrides: ["mask.decoder_ratio=0.5"]).mask.decoder_ratio, 0.5)
    }

    func testImpossibleValuesRefused() {
        for (set, why) in [(["mask.decoder_ratio=0.1"], "1 to 3"), (["mask.decoder_ratio=1"], "1 to 3"),
                           (["mask.decoder_ratio=-0.5"], "1 to 3"),
                           (["mask.decoder_ratio=0.5", "data.input_size=112"], "even token grid")] {
            XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: set)) { e in
                XCTAssertTrue("\(e)".contains("mask.decoder_ratio") && "\(e)".contains(why), "\(set): \(e)")
            }
        }
    }
}
