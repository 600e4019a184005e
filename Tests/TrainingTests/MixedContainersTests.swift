import DataPipeline
import Foundation
import TensorCore
import TestSupport
import VideoIO
import XCTest

@testable import RunConfig
@testable import Training

/// A new user's folder of their own videos in several containers pretrains without conversion.
final class MixedContainersTests: TempDirTestCase {
    func testFolderOfMp4AviMkvWebmPretrains() throws {
        let formats = ["mp4", "avi", "mkv", "webm"]
        for (c, cls) in ["dogs", "cats"].enumerated() {
            try FileManager.default.createDirectory(atPath: path("mine/\(cls)"), withIntermediateDirectories: true)
            for (i, ext) in formats.enumerated() {
                let rgb = SyntheticVideos.render(classIndex: c, size: 48, frames: 12, seed: UInt64(10 * c + i))
                let w = try VideoWriter(path: path("mine/\(cls)/v\(i).\(ext)"), width: 48, height: 48, fps: 25)
                try w.write(frames: rgb, count: 12)
                try w.close()
            }
        }
        let cfg = try TrainConfig.load(path: nil, overrides: [
            "output_dir=\(path("run"))", "data.train_list=\(path("mine"))", "data.num_frames=4", "data.sampling_rate=2",
            "data.input_size=32", "data.num_workers=0", "model.preset=null", "model.patch_size=8",
            "model.encoder_embed_dim=16", "model.encoder_depth=1", "model.encoder_num_heads=2",
            "model.decoder_embed_dim=8", "model.decoder_depth=1", "model.decoder_num_heads=2",
            "optim.batch_size=2", "optim.max_steps=4", "optim.warmup_steps=1", "checkpoint.every_steps=4",
        ])
        let ds = try makeTrainDataset(cfg)
        XCTAssertEqual(ds.count, 8)
        XCTAssertEqual(ds.classNames, ["cats", "dogs"])
        XCTAssertNil(skippedFilesReport(ds), "every container must decode")
        let summary = try Trainer(config: cfg, quiet: true).run()
        XCTAssertEqual(summary.lastStep, 4)
        XCTAssertTrue(summary.losses.allSatisfy(\.isFinite))
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("run/checkpoint-00000004.h5")))
    }
}
