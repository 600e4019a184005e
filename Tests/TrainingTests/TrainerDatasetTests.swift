import DataPipeline
import Foundation
import TensorCore
import TestSupport
import XCTest

@testable import ExitStatus
@testable import RunConfig
@testable import Training

/// The trainer's side: `makeDataset` / `makeVideoDataset` from a config, its errors, the loader.
final class TrainerDatasetTests: TempDirTestCase {
    func config(_ sets: [String]) throws -> TrainConfig {
        try TrainConfig.load(path: nil, overrides: ["data.num_frames=4", "data.sampling_rate=2", "data.input_size=32",
                                                    "model.preset=vit-tiny"] + sets)
    }

    func assertUserError(_ contains: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("no error", file: file, line: line)
        } catch let e as UserError {
            for c in contains { XCTAssertTrue(e.message.contains(c), "'\(e.message)' lacks '\(c)'", file: file, line: line) }
        } catch {
            XCTFail("not a UserError: \(error)", file: file, line: line)
        }
    }

    func testListProblemsAreUserErrorsNamingKeyAndPath() throws {
        let cfg = try config([])
        assertUserError(["data.train_list", path("nope.csv")]) {
            _ = try makeDataset(cfg, list: self.path("nope.csv"), key: "data.train_list", training: true)
        }
        try "# nothing here\n\n".write(toFile: path("empty.csv"), atomically: true, encoding: .utf8)
        assertUserError(["data.val_list", path("empty.csv"), "no videos"]) {
            _ = try makeDataset(cfg, list: self.path("empty.csv"), key: "data.val_list", training: false)
        }
        try "a.mp4 x\n".write(toFile: path("bad.csv"), atomically: true, encoding: .utf8)
        assertUserError(["data.train_list", path("bad.csv") + ":1"]) {
            _ = try makeDataset(cfg, list: self.path("bad.csv"), key: "data.train_list", training: true)
        }
        // Mostly unreadable: found while sampling, still a UserError with the key.
        for i in 0..<3 { try "text".write(toFile: path("t\(i).mp4"), atomically: true, encoding: .utf8) }
        try "t0.mp4 0\nt1.mp4 0\nt2.mp4 0\n".write(toFile: path("text.csv"), atomically: true, encoding: .utf8)
        let ds = try makeDataset(cfg, list: path("text.csv"), key: "data.train_list", training: true)
        (ds as? VideoDataset)?.clips.onSkip = { _ in }
        assertUserError(["data.train_list", "more than half"]) { _ = try ds.sample(index: 0, epoch: 0, seed: 0) }
        XCTAssertEqual(skippedFilesReport(ds)?.contains("skipped 2 unreadable videos of 3"), true)
    }

    func testConfigDrivesTheClipsAndTheLoaderFeedsBatches() throws {
        try SyntheticVideos.generate(out: path("syn"), classes: 2, clipsPerClass: 3, size: 48, frames: 16, seed: 1, valPerClass: 1)
        for task in ["pretrain", "finetune"] {
            let cfg = try config(["task=\(task)", "data.train_list=\(path("syn/train.csv"))", "data.val_list=\(path("syn/val.csv"))"])
            let train = try makeTrainDataset(cfg)
            let vd = try XCTUnwrap(train as? VideoDataset)
            XCTAssertEqual(vd.clips.mode, task == "pretrain" ? .pretrain : .finetune)
            XCTAssertEqual(train.count, 4)
            XCTAssertEqual(train.classNames, ["move_left", "move_right"])
            XCTAssertNil(skippedFilesReport(train))
            let val = try makeDataset(cfg, list: cfg.data.val_list, key: "data.val_list", training: false)
            XCTAssertEqual((val as? VideoDataset)?.clips.mode, .evalCentre)
            XCTAssertEqual(val.count, 2)

            let loader = BatchLoader(dataset: train, batchSize: 2, seed: 3, workers: 2)
            for step in 0..<4 {
                let b = try loader.next(step: step, lastStep: 4)
                XCTAssertEqual(b.pixels.shape, [2, 4, 3, 32, 32])
                XCTAssertEqual(b.labels, b.indices.map { $0 / 2 })
                // The same batch again, synchronously: identical (resumable data).
                XCTAssertTrue(sameTensor(b.pixels, try loader.load(step: step).pixels))
            }
            loader.drain()
        }
        // A class-per-folder directory works as a list too.
        let cfg = try config(["data.train_list=\(path("syn"))"])
        let ds = try makeTrainDataset(cfg)
        XCTAssertEqual(ds.count, 6)
        XCTAssertEqual(ds.classNames, ["move_left", "move_right"])
    }
}
