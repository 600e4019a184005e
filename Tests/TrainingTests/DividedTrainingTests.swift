import Foundation
import XCTest

@testable import RunConfig
@testable import Training

/// `model.attention = "divided"` through the trainer.
final class DividedTrainingTests: XCTestCase {
    /// A real (tiny) pretraining run with divided attention, through the trainer.
    func testTrainerRunsDividedPretraining() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmae-divided-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tree: [String: Any] = [
            "task": "pretrain", "seed": 7, "output_dir": dir,
            "model": ["preset": NSNull(), "attention": "divided", "encoder_embed_dim": 16, "encoder_depth": 2,
                      "encoder_num_heads": 2, "decoder_embed_dim": 8, "decoder_depth": 1, "decoder_num_heads": 2,
                      "patch_size": 8] as [String: Any],
            "mask": ["type": "tube", "ratio": 0.75] as [String: Any],
            "data": ["train_list": "random:8", "num_frames": 4, "input_size": 32, "num_workers": 0] as [String: Any],
            "optim": ["batch_size": 2, "max_steps": 3, "warmup_steps": 1, "lr": 1e-3, "min_lr": 1e-5] as [String: Any],
            "checkpoint": ["every_steps": 100, "keep_last": 1] as [String: Any],
            "log": ["every_steps": 1] as [String: Any],
        ]
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/config.in.json"
        try JSONSerialization.data(withJSONObject: tree).write(to: URL(fileURLWithPath: path))
        let cfg = try TrainConfig.load(path: path)
        let s = try Trainer(config: cfg, quiet: true).run()
        XCTAssertEqual(s.lastStep, 3)
        XCTAssertTrue(s.losses.allSatisfy { $0.isFinite }, "\(s.losses)")
    }
}
