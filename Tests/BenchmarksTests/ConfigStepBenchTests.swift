import Foundation
import XCTest

@testable import Benchmarks

/// `vmae bench step --config FILE`: the step of a pretraining config's own model, batch and mask.
final class ConfigStepBenchTests: XCTestCase {
    func write(_ json: String) throws -> String {
        let p = NSTemporaryDirectory() + "bench-\(UUID().uuidString).json"
        try json.write(toFile: p, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: p) }
        return p
    }

    func testTheConfigsModelBatchAndMaskAreTimed() throws {
        let p = try write("""
        {"task": "pretrain", "model": {"preset": null, "encoder_embed_dim": 32, "encoder_depth": 1, "encoder_num_heads": 2,
          "decoder_embed_dim": 16, "decoder_depth": 1, "decoder_num_heads": 2, "patch_size": 8},
         "mask": {"type": "random", "ratio": 0.75},
         "data": {"num_frames": 4, "input_size": 32}, "optim": {"batch_size": 3}}
        """)
        let out = try captureStdout { try runStepBench(configPath: p, overrides: ["optim.batch_size=2"], steps: 1, threads: 1, profile: false) }
        let line = try XCTUnwrap(out.split(separator: "\n").last)
        let r = try JSONDecoder().decode(StepBench.Result.self, from: Data(line.utf8))
        XCTAssertEqual(r.preset, (p as NSString).lastPathComponent)
        XCTAssertEqual([r.frames, r.size, r.batch], [4, 32, 2], "the config's frames and size, the override's batch")
        XCTAssertEqual(r.tokens, 2 * 4 * 4)                 // (4 / tubelet 2) × (32 / 8)²
        XCTAssertEqual(r.visible, 32 - Int(0.75 * 32))      // random masking hides int(ratio · N)
        XCTAssertGreaterThan(r.step_s_median, 0)
    }

    func testAFineTuningConfigIsRefusedWithOneLine() throws {
        let p = try write(#"{"task": "finetune"}"#)
        XCTAssertThrowsError(try runStepBench(configPath: p, overrides: [], steps: 1, threads: 1, profile: false)) { e in
            XCTAssertTrue("\(e)".contains("needs a pretraining config"), "\(e)")
            XCTAssertFalse("\(e)".contains("\n"))
        }
    }

    /// What `body` printed on stdout.
    func captureStdout(_ body: () throws -> Void) throws -> String {
        fflush(stdout)
        let pipe = Pipe(), saved = dup(1)
        dup2(pipe.fileHandleForWriting.fileDescriptor, 1)
        defer { fflush(stdout); dup2(saved, 1); close(saved) }
        try body()
        fflush(stdout)
        dup2(saved, 1)
        try pipe.fileHandleForWriting.close()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}
