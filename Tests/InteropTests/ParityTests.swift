import XCTest

@testable import Interop

/// Replays every PyTorch fixture under Tests/Fixtures (made by Tools/parity/make_fixture.py from
/// Hugging Face transformers' VideoMAE) and demands the design's tolerances.
final class ParityTests: XCTestCase {
    static let fixtureDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures").path

    func fixtures() throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.fixtureDir).filter { $0.hasSuffix(".h5") }.sorted()
        return names.map { Self.fixtureDir + "/" + $0 }
    }

    func testAtLeastFiveFixturesCommitted() throws {
        let names = try fixtures().map { URL(fileURLWithPath: $0).lastPathComponent }
        XCTAssertGreaterThanOrEqual(names.count, 5, "fixtures: \(names)")
        XCTAssertTrue(names.contains { $0.hasPrefix("classify") })
        XCTAssertTrue(names.contains { $0.hasPrefix("pretrain") })
    }

    func testEveryFixtureWithinTolerance() throws {
        for path in try fixtures() {
            let r = try Parity.run(path)
            XCTAssertTrue(r.comparisons.contains { $0.what == "loss" }, path)
            XCTAssertTrue(r.comparisons.contains { $0.what.hasPrefix("grad ") }, path)
            XCTAssertTrue(r.comparisons.contains { $0.what.hasPrefix("adamw") }, "\(path): the AdamW sequence must be checked")
            for c in r.comparisons {
                XCTAssertLessThanOrEqual(c.error, c.tolerance, "\(URL(fileURLWithPath: path).lastPathComponent): \(c.what)")
            }
        }
    }

    /// The check must be able to fail: a perturbed parameter breaks the loss comparison.
    func testParityDetectsAWrongModel() throws {
        let src = try fixtures().first { $0.contains("pretrain_tube") }!
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("vmae-parity-\(getpid()).h5").path
        try? FileManager.default.removeItem(atPath: tmp)
        try FileManager.default.copyItem(atPath: src, toPath: tmp)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        try corruptLoss(tmp)
        let r = try Parity.run(tmp)
        XCTAssertFalse(r.ok)
        XCTAssertFalse(r.comparisons.first { $0.what == "loss" }!.ok)
    }
}
