import Foundation
import ExitStatus
import HDF5
@testable import Interop
import TestSupport
import VideoMAE
import XCTest

/// Parity fixtures that lie (what the fixture fuzz harness, Fuzz/fixture, aims at): each is
/// refused with one line naming the file and the part that is wrong, before a model is built
/// or a value is read past what the file holds.
final class ParityHostileTests: XCTestCase {
    /// A 1-block model on 1×2×1×4×4 clips (patch 2, tubelet 2, width 4), as Fuzz/make_seeds.py.
    static let config: [String: Any] = [
        "img_size": 4, "num_frames": 2, "patch_size": 2, "tubelet_size": 2, "in_chans": 1, "encoder_embed_dim": 4,
        "encoder_depth": 1, "encoder_num_heads": 1, "decoder_embed_dim": 4, "decoder_depth": 1, "decoder_num_heads": 1,
        "mlp_ratio": 1.0, "qkv_bias": true, "layer_norm_eps": 1e-6, "num_classes": 0, "use_mean_pooling": true,
        "normalize_target": true,
    ]

    /// Writes a pretraining fixture of that model; `edit` may change the config, the pixel
    /// shape, the mask length, the gradient length and the number of AdamW losses first.
    func fixture(_ name: String, config: [String: Any] = config, pixels: [Int] = [1, 2, 1, 4, 4], maskCount: Int = 4,
                 gradCount: Int? = nil, adamwLosses: Int = 3) throws -> String {
        let path = TT.scratch("parity-hostile", self) + "/\(name).h5"
        let f = try H5File.create(path)
        try f.setAttribute("format", "vmae-parity-fixture")
        try f.setAttribute("format_version", Int64(1))
        try f.setAttribute("kind", "pretrain")
        try f.setAttribute("config", String(data: try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]), encoding: .utf8)!)
        let n = pixels.reduce(1, *)
        try f.write("inputs/pixel_values", (0..<n).map { Float($0 % 7) / 7 }, shape: pixels)
        try f.write("inputs/mask", (0..<maskCount).map { UInt8($0 < 3 ? 1 : 0) }, shape: [1, maskCount])
        let model = PretrainModel(try JSONDecoder().decode(ModelConfig.self, from: JSONSerialization.data(withJSONObject: Self.config)))
        for (name, p) in model.namedParameters() {
            try f.write("params/\(name)", (0..<p.count).map { Float($0 % 5) / 10 - 0.2 }, shape: p.shape)
        }
        try f.write("expected/loss", scalar: Float(1))
        let head = model.namedParameters().first { $0.0 == "decoder.head.bias" }!.1
        let g = gradCount ?? head.count
        try f.write("expected/grads/decoder.head.bias", [Float](repeating: 0, count: g), shape: [g])
        try f.write("expected/adamw/losses", [Float](repeating: 1, count: adamwLosses), shape: [adamwLosses])
        for (k, v) in [("lr", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("eps", 1e-8), ("weight_decay", 0.05)] {
            try f.setAttribute(k, v, on: "expected/adamw/losses")
        }
        try f.close()
        return path
    }

    func refusal(_ path: String, _ expect: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Parity.run(path), file: file, line: line) { e in
            let msg = "\(e)"
            XCTAssertTrue(e is UserError, "\(type(of: e)): \(msg)", file: file, line: line)
            XCTAssertTrue(msg.hasPrefix(path) && msg.contains(expect), "expected '\(expect)': \(msg)", file: file, line: line)
            XCTAssertFalse(msg.contains("\n"), msg, file: file, line: line)
        }
    }

    func testAWellFormedTinyFixtureRuns() throws {
        let r = try Parity.run(try fixture("good"))
        XCTAssertEqual(r.kind, "pretrain")
        XCTAssertEqual(r.comparisons.filter { $0.what.hasPrefix("adamw") }.count, 1)
    }

    func testLyingShapesAndCountsAreRefused() throws {
        refusal(try fixture("mask", maskCount: 3), "inputs/mask has 3 values, expected B·N = 1·4")
        refusal(try fixture("rank", pixels: [2, 1, 4, 4]), "inputs/pixel_values has shape [2, 1, 4, 4], expected [B, T, C, H, W]")
        refusal(try fixture("chans", pixels: [1, 2, 3, 4, 4]), "inputs/pixel_values has 3 channels, config.in_chans is 1")
        refusal(try fixture("grads", gradCount: 9), "expected/grads/decoder.head.bias has 9 values, the parameter 8")
        refusal(try fixture("steps", adamwLosses: 5000), "expected/adamw/losses has 5000 values, expected 1 to 1001")
    }

    func testImpossibleOrHugeConfigsAreRefusedBeforeBuildingTheModel() throws {
        var heads = Self.config
        heads["encoder_num_heads"] = 3
        refusal(try fixture("heads", config: heads), "config.encoder_num_heads: 3 heads do not divide encoder_embed_dim 4")
        var patch = Self.config
        patch["patch_size"] = 0
        refusal(try fixture("patch0", config: patch), "config.patch_size: must be positive")
        var huge = Self.config
        huge["encoder_embed_dim"] = 1 << 20
        huge["encoder_depth"] = 64
        refusal(try fixture("huge", config: huge), "more than the")
    }

    /// Found by the fixture fuzz harness: a 27 KB fixture whose dataset declares ~3.6·10^17
    /// elements; reading it used to ask Swift for that many bytes and abort. The HDF5 layer now
    /// refuses any dataset larger than its file can hold before allocating.
    func testAFuzzFoundFixtureDeclaringAHugeDatasetIsRefused() throws {
        let p = TT.packageRoot + "/Tests/Fixtures/fuzz/fixture-huge-dataset.h5"
        refusal(p, "more than the file can hold")
        let r = try TT.run("vmae", ["parity", p], scratch: TT.scratch("parity-huge", self))
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderrLines.count, 1, r.stderr)
    }
}
