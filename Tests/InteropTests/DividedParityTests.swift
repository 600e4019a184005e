import Foundation
import XCTest

@testable import Interop

/// `model.attention = "divided"` against the PyTorch reference fixtures.
final class DividedParityTests: XCTestCase {
    static let fixtureDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    /// The whole classifier and the whole pretraining model (divided encoder on a tube mask's
    /// visible grid, joint decoder) against the PyTorch reference: loss, logits, every
    /// gradient (the temporal ones included) and three AdamW steps, with the design's tolerances.
    func testWholeModelFixtures() throws {
        for name in ["divided_classify.h5", "divided_pretrain.h5"] {
            let r = try Parity.run(Self.fixtureDir + "/" + name)
            XCTAssertTrue(r.comparisons.contains { $0.what.contains("temporal_attn.qkv.weight") }, name)
            XCTAssertTrue(r.comparisons.contains { $0.what.contains("temporal_fc.weight") }, name)
            XCTAssertTrue(r.comparisons.contains { $0.what.hasPrefix("adamw") }, name)
            for c in r.comparisons { XCTAssertLessThanOrEqual(c.error, c.tolerance, "\(name): \(c.what)") }
        }
    }
}
