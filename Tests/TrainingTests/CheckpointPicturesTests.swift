import Foundation
import TestSupport
import VideoIO
import XCTest

@testable import RunConfig
@testable import Training

/// The pictures a pretraining run writes at each checkpoint (recon-STEP.png, curves.png), on the
/// tiny model of TestSupport's tinyConfig.
final class CheckpointPicturesTests: PictureFolderTestCase {
    func testAPretrainingRunWritesPicturesAtEachCheckpoint() throws {
        let cfg = try tinyConfig()
        try runTraining(cfg, resume: nil, stopAt: nil, threads: nil, evalOnly: false, quiet: true)
        let files = try FileManager.default.contentsOfDirectory(atPath: cfg.output_dir)
        XCTAssertTrue(files.contains("recon-00000002.png"), "\(files)")
        XCTAssertTrue(files.contains("recon-00000004.png"), "\(files)")
        XCTAssertTrue(files.contains("curves.png"), "\(files)")
        let a = try PNGImage.read(path: path("run/recon-00000002.png"))
        let b = try PNGImage.read(path: path("run/recon-00000004.png"))
        XCTAssertEqual(a.width, b.width)
        XCTAssertEqual(a.height, b.height)
        XCTAssertNotEqual(a.rgb, b.rgb)   // the model changed between the checkpoints
        let curves = try PNGImage.read(path: path("run/curves.png"))
        XCTAssertEqual(curves.width, 1200)
        XCTAssertEqual(curves.height, 800)
    }

    /// keep_last 2 over 5 checkpoints: each recon picture goes with its checkpoint, so the
    /// folder ends with the two of the kept checkpoints; a stray recon-STEP.png of a checkpoint
    /// that is gone (an earlier run's) goes at the next checkpoint, other files stay.
    func testReconPicturesFollowTheirCheckpoints() throws {
        let cfg = try tinyConfig(["checkpoint.every_steps=1", "checkpoint.keep_last=2", "optim.max_steps=5"])
        try FileManager.default.createDirectory(atPath: cfg.output_dir, withIntermediateDirectories: true)
        for n in ["recon-00000099.png", "recon-notes.png", "recon-1.png"] {
            FileManager.default.createFile(atPath: cfg.output_dir + "/" + n, contents: Data([1]))
        }
        try runTraining(cfg, resume: nil, stopAt: nil, threads: nil, evalOnly: false, quiet: true)
        let files = try FileManager.default.contentsOfDirectory(atPath: cfg.output_dir)
        XCTAssertEqual(files.filter { $0.hasPrefix("checkpoint-") }.sorted(), ["checkpoint-00000004.h5", "checkpoint-00000005.h5"])
        XCTAssertEqual(files.filter { $0.hasPrefix("recon-") }.sorted(),
                       ["recon-00000004.png", "recon-00000005.png", "recon-1.png", "recon-notes.png"])
    }

    func testPictureFailuresNeverStopTraining() throws {
        // A val list that does not exist: no reconstructions (one warning), curves still drawn,
        // training finishes.
        let cfg = try tinyConfig(["data.val_list=\(path("missing.csv"))"])
        let trainer = Trainer(config: cfg, quiet: true)
        let pictures = CheckpointPictures(config: cfg)
        var warnings: [String] = []
        pictures.warn = { warnings.append($0) }
        pictures.install(on: trainer)
        let s = try trainer.run()
        XCTAssertEqual(s.lastStep, 4)
        XCTAssertEqual(warnings.count, 1, "\(warnings)")
        XCTAssertTrue(warnings[0].hasPrefix("warning: pictures:"), warnings[0])
        let files = try FileManager.default.contentsOfDirectory(atPath: cfg.output_dir)
        XCTAssertTrue(files.contains("curves.png"))
        XCTAssertFalse(files.contains { $0.hasPrefix("recon-") })

        // An output folder that cannot take the picture: a warning per checkpoint, no error.
        let cfg2 = try tinyConfig(["output_dir=\(path("run2"))"])
        let p2 = CheckpointPictures(config: cfg2)
        var w2: [String] = []
        p2.warn = { w2.append($0) }
        try FileManager.default.createDirectory(atPath: p2.reconPath(step: 7), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: p2.curvesPath, withIntermediateDirectories: true)
        p2.afterPretrainCheckpoint(model: tinyModel(), step: 7)
        XCTAssertEqual(w2.count, 2, "\(w2)")
    }
}
