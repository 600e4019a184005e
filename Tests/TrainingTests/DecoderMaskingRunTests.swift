import Foundation
import TestSupport
import XCTest
@testable import Training

/// A short pretraining run with VideoMAE V2's decoder masking: it trains, and it is a different
/// run from the one without (the decoder reconstructs another token set).
final class DecoderMaskingRunTests: XCTestCase {
    func testRunWithDecoderMasking() throws {
        let dir = TT.scratch("dual", self)
        let plain = try Trainer(config: try TT.config(TT.tinyTree(outputDir: dir + "/a", steps: 6), in: dir), quiet: true).run()
        let dual = try Trainer(config: try TT.config(TT.tinyTree(outputDir: dir + "/b", steps: 6), in: dir,
                                                     overrides: ["mask.decoder_ratio=0.5"]), quiet: true).run()
        XCTAssertEqual(dual.losses.count, 6)
        XCTAssertTrue(dual.losses.allSatisfy(\.isFinite))
        XCTAssertNotEqual(plain.losses, dual.losses)
        // logged loss_vs_mean is scored on the same decoded tokens as the loss: finite and positive
        let lines = try String(contentsOfFile: dir + "/b/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let last = try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as! [String: Any]
        let ratio = (last["loss_vs_mean"] as! NSNumber).doubleValue
        XCTAssertTrue(ratio.isFinite && ratio > 0, "\(last)")
    }
}
