import Foundation
import XCTest

@testable import Benchmarks
@testable import Pictures

/// `vmae tokens` (the seed's token-count calculator) and `vmae bench attention`.
final class DividedToolsTests: XCTestCase {
    /// The seed's numbers: 32 frames of 224², patch 16, tubelet 2 → 3136 tokens; divided
    /// attention scores about 0.07× the pairs of joint attention.
    func testTokenCalculatorOnTheSeedsNumbers() throws {
        let c = try TokenCalculator.count(frames: 32, size: 224, patch: 16, tubelet: 2)
        XCTAssertEqual(c.temporal_groups, 16)
        XCTAssertEqual(c.spatial_tokens, 196)
        XCTAssertEqual(c.tokens, 3136)
        XCTAssertEqual(c.joint_pairs, 3136 * 3136)                       // 9,834,496
        XCTAssertEqual(c.divided_pairs, 196 * 196 * 16 + 16 * 16 * 196)  // 664,832
        XCTAssertEqual(c.spatial_pairs, 196 * 196 * 16)                  // 614,656
        XCTAssertEqual(c.divided_ratio, 0.07, accuracy: 0.005)
        XCTAssertEqual(c.spatial_ratio, 0.0625, accuracy: 1e-12)
        // 64 frames with tubelet 4 is the same token grid
        let d = try TokenCalculator.count(frames: 64, size: 224, patch: 16, tubelet: 4)
        XCTAssertEqual(d.tokens, 3136)
        XCTAssertEqual(d.divided_pairs, c.divided_pairs)
        // VideoMAE's default clip: 16 frames → 1568 tokens
        XCTAssertEqual(try TokenCalculator.count(frames: 16, size: 224, patch: 16, tubelet: 2).tokens, 1568)
        let table = TokenCalculator.table(c)
        XCTAssertTrue(table.contains("9,834,496") && table.contains("664,832") && table.contains("614,656"), table)
        XCTAssertTrue(table.contains("0.0676"), table)
    }

    func testTokenCalculatorRefusesImpossibleClips() {
        XCTAssertThrowsError(try TokenCalculator.count(frames: 33, size: 224, patch: 16, tubelet: 2)) { e in
            XCTAssertTrue("\(e)".contains("--frames"), "\(e)")
        }
        XCTAssertThrowsError(try TokenCalculator.count(frames: 32, size: 225, patch: 16, tubelet: 2)) { e in
            XCTAssertTrue("\(e)".contains("--size"), "\(e)")
        }
        XCTAssertThrowsError(try TokenCalculator.count(frames: 0, size: 224, patch: 16, tubelet: 2))
        XCTAssertThrowsError(try TokenCalculator.count(frames: 32, size: 224, patch: 0, tubelet: 2))
    }

    /// A tiny bench: both kinds at every T, memory measured and positive, the quadratic part
    /// visible in the joint block's memory, the table and the PNG written.
    func testAttentionBenchTiny() throws {
        var o = AttentionBench.Options()
        o.frames = [4, 16]
        o.size = 64; o.patch = 8; o.dim = 16; o.heads = 2; o.reps = 1
        let rows = try AttentionBench.run(o)
        XCTAssertEqual(rows.map(\.attention), ["joint", "divided", "joint", "divided"])
        XCTAssertEqual(rows.map(\.tokens), [128, 128, 512, 512])
        XCTAssertEqual(rows[2].pairs, 512 * 512)
        XCTAssertEqual(rows[3].pairs, 64 * 64 * 8 + 8 * 8 * 64)
        for r in rows {
            XCTAssertGreaterThan(r.fwd_s, 0)
            XCTAssertGreaterThan(r.fwdbwd_s, 0)
            XCTAssertGreaterThan(r.fwdbwd_peak_mb, r.fwd_peak_mb, "training keeps activations: \(r)")
        }
        // joint keeps B·H·N² probabilities for backward: at N = 512 with 2 heads that is 2 MB
        // alone, the divided block's are 2·(64²·8 + 8²·64)·4 bytes ≈ 0.3 MB
        XCTAssertGreaterThan(rows[2].fwdbwd_peak_mb, rows[3].fwdbwd_peak_mb)
        let table = AttentionBench.table(rows, o)
        XCTAssertEqual(table.split(separator: "\n", omittingEmptySubsequences: false).count, 6, table)
        XCTAssertTrue(table.contains("262,144"), table)
        let png = FileManager.default.temporaryDirectory.appendingPathComponent("vmae-attn-\(getpid()).png").path
        defer { try? FileManager.default.removeItem(atPath: png) }
        try AttentionBench.draw(rows, o, out: png)
        let img = try RGBFrame(pngPath: png)
        XCTAssertEqual(img.width, 1400)
        XCTAssertEqual(img.height, 900)
    }

    func testAttentionBenchRefusesBadOptions() {
        var o = AttentionBench.Options()
        o.frames = [5]
        XCTAssertNotNil(AttentionBench.problem(o))
        o.frames = [4]; o.heads = 5
        XCTAssertNotNil(AttentionBench.problem(o))
        o.heads = 12; o.size = 100
        XCTAssertNotNil(AttentionBench.problem(o))
        o.size = 224
        XCTAssertNil(AttentionBench.problem(o))
        XCTAssertThrowsError(try AttentionBench.run({ var p = o; p.frames = []; return p }()))
    }
}
