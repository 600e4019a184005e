import Checkpoint
import DataPipeline
import Foundation
import TensorCore
import TestSupport
import VideoIO
import XCTest

@testable import ExitStatus
@testable import Inference
@testable import Training

/// A short fine-tune of a tiny model on bundled synthetic clips of two motion classes, then
/// `vmae predict` on them; and the bad inputs of predict and evaluation.
final class FinetunePredictTests: XCTestCase {
    /// Two synthetic classes that a horizontal flip does not confuse: move_up and grow.
    static let classes = [(name: "move_up", index: 2), (name: "grow", index: 6)]
    static let clipsPerClass = 8

    struct Fixture {
        let dir: String
        let checkpoint: String
        let pretrainCheckpoint: String
        let clips: [(path: String, label: Int)]
    }

    nonisolated(unsafe) static var fixture: Result<Fixture, Error>?

    /// Writes the clips (32 px, 16 frames, as `vmae data synth` draws them), fine-tunes for 160
    /// steps (a few seconds) and keeps the run for every test of this class.
    static func prepared() throws -> Fixture {
        if let f = fixture { return try f.get() }
        let r = Result { () throws -> Fixture in
            let dir = try ftTempDir("predict")
            var list = "", clips: [(String, Int)] = []
            for (label, c) in classes.enumerated() {
                try FileManager.default.createDirectory(atPath: dir + "/" + c.name, withIntermediateDirectories: true)
                for i in 0..<clipsPerClass {
                    var rng = SyntheticVideos.clipRNG(seed: 0, classIndex: c.index, clip: i)
                    let rgb = SyntheticVideos.render(classIndex: c.index, size: 32, frames: 16, rng: &rng)
                    let rel = "\(c.name)/clip_\(i).mp4"
                    let w = try VideoWriter(path: dir + "/" + rel, width: 32, height: 32, fps: 25)
                    try w.write(frames: rgb, count: 16)
                    try w.close()
                    list += "\(rel) \(label)\n"
                    clips.append((dir + "/" + rel, label))
                }
            }
            try list.write(toFile: dir + "/train.csv", atomically: true, encoding: .utf8)
            try classes.map(\.name).joined(separator: "\n").write(toFile: dir + "/classes.txt", atomically: true, encoding: .utf8)
            let cfg = try ftRunConfig(task: "finetune", dir: dir + "/run", extra: [
                "data": ["train_list": dir + "/train.csv", "val_list": dir + "/train.csv", "root": dir,
                         "sampling_rate": 4, "num_workers": 1] as [String: Any],
                "model": ["drop_path_rate": 0.0] as [String: Any],
                "optim": ["max_steps": NSNull(), "epochs": 40, "lr": 2e-3, "warmup_steps": 4, "label_smoothing": 0.0] as [String: Any],
                "checkpoint": ["every_steps": 1000] as [String: Any],
                // mixing, RandAugment and erasing off: this class tests predict, which needs a model
                // that learned the two classes in a few seconds; those regularizers for long runs
                // slow that down (with mixup/cutmix on, or with RandAugment on, 11 of 16 right
                // after these 160 steps)
                "finetune": ["test_num_segment": 2, "test_num_crop": 1, "mixup": 0.0, "cutmix": 0.0,
                             "aa": "none", "reprob": 0.0] as [String: Any],
            ])
            let s = try Trainer(config: cfg, quiet: true).run()
            let pre = dir + "/pre.h5"
            _ = try ftWritePretrainCheckpoint(ftModelConfig(classes: 2), to: pre)
            return Fixture(dir: dir, checkpoint: try XCTUnwrap(s.checkpoint), pretrainCheckpoint: pre, clips: clips)
        }
        fixture = r
        return try r.get()
    }

    override class func tearDown() {
        if case let .success(f)? = fixture { try? FileManager.default.removeItem(atPath: f.dir) }
        fixture = nil
    }

    func testPredictNamesTheTrueClassOfSyntheticClipsAfterAShortFineTune() throws {
        let f = try Self.prepared()
        let predictor = try Predictor(checkpoint: f.checkpoint)
        XCTAssertEqual(predictor.classNames, ["move_up", "grow"])
        var right = 0
        for (path, label) in f.clips {
            let p = try predictor.predict(path, topK: 2)
            XCTAssertEqual(p.views, 2)
            XCTAssertEqual(p.top.count, 2)
            XCTAssertEqual(p.top.map(\.probability).reduce(0, +), 1, accuracy: 1e-4)
            XCTAssertGreaterThanOrEqual(p.top[0].probability, p.top[1].probability)
            if p.top[0].label == Self.classes[label].name { right += 1 }
        }
        // the model has seen these clips (under random crops); most must come back right
        XCTAssertGreaterThanOrEqual(right, f.clips.count * 3 / 4, "\(right) of \(f.clips.count) right")
        // the first clip of each class
        for c in 0..<2 {
            let (path, label) = f.clips[c * Self.clipsPerClass]
            XCTAssertEqual(try predictor.predict(path, topK: 1).top[0].label, Self.classes[label].name, path)
        }
    }

    func testPredictPrintsTextJSONAndATimelineAlongALongVideo() throws {
        let f = try Self.prepared()
        // a long video: a move_up clip, then a grow clip (32 frames at 25 fps)
        var frames: [UInt8] = []
        for c in Self.classes {
            var rng = SyntheticVideos.clipRNG(seed: 0, classIndex: c.index, clip: 0)
            frames += SyntheticVideos.render(classIndex: c.index, size: 32, frames: 16, rng: &rng)
        }
        let long = f.dir + "/long.mp4"
        let w = try VideoWriter(path: long, width: 32, height: 32, fps: 25)
        try w.write(frames: frames, count: 32)
        try w.close()

        var out = ""
        try runPredict(checkpoint: f.checkpoint, videos: [f.clips[0].path, long], topK: nil, timeline: true, windowStride: nil,
                       json: true, write: { out += $0 })
        let lines = out.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(lines.count, 2)
        let second = try XCTUnwrap(lines[1])
        XCTAssertEqual(second["video"] as? String, long)
        XCTAssertEqual((second["top_k"] as? [[String: Any]])?.count, 2, "default top-k: min(5, K)")
        let rows = try XCTUnwrap(second["timeline"] as? [[String: Any]])
        // window: 4 frames 4 apart = 16 frames = 0.64 s; stride defaults to the window
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(rows[0]["start_s"] as? Double ?? -1, 0, accuracy: 1e-9)
        XCTAssertEqual(rows[0]["end_s"] as? Double ?? -1, 0.64, accuracy: 1e-9)
        XCTAssertEqual(rows[1]["start_s"] as? Double ?? -1, 0.64, accuracy: 1e-9)
        XCTAssertEqual(rows[1]["end_s"] as? Double ?? -1, 1.28, accuracy: 1e-9)
        for r in rows { XCTAssertTrue(["move_up", "grow"].contains(r["label"] as? String ?? ""), "\(r)") }

        // a finer stride: windows every 0.2 s, the last one ending with the video
        let p = try Predictor(checkpoint: f.checkpoint)
        let t = try p.timeline(try p.open(long), stride: 0.2)
        ftAssertClose(t.rows.map(\.start), [0, 0.2, 0.4, 0.6, 0.64], accuracy: 1e-9)
        XCTAssertEqual(t.rows.last!.end, 1.28, accuracy: 1e-9)

        var text = ""
        try runPredict(checkpoint: f.checkpoint, videos: [long], topK: 1, timeline: true, windowStride: 0.32, json: false,
                       write: { text += $0 })
        XCTAssertTrue(text.contains("timeline (window 0.64 s, stride 0.32 s)"), text)
        XCTAssertTrue(text.contains("0.00 –     0.64 s"), text)
    }

    func testPredictRefusesBadInputWithOneLine() throws {
        let f = try Self.prepared()
        func message(_ body: () throws -> Void) -> String {
            do { try body() } catch let e as UserError { return e.message } catch { return "not a UserError: \(error)" }
            return "no error"
        }
        let video = f.clips[0].path
        // a checkpoint of the wrong task
        var m = message { try runPredict(checkpoint: f.pretrainCheckpoint, videos: [video], topK: nil, timeline: false, windowStride: nil, json: false, write: { _ in }) }
        XCTAssertTrue(m.contains("pretrain checkpoint") && m.contains("finetune"), m)
        // --top-k larger than the class count
        m = message { try runPredict(checkpoint: f.checkpoint, videos: [video], topK: 3, timeline: false, windowStride: nil, json: false, write: { _ in }) }
        XCTAssertTrue(m.contains("--top-k 3") && m.contains("2 classes"), m)
        m = message { try runPredict(checkpoint: f.checkpoint, videos: [video], topK: 0, timeline: false, windowStride: nil, json: false, write: { _ in }) }
        XCTAssertTrue(m.contains("--top-k"), m)
        // a file that is not a video, and one that does not exist; nothing is printed first
        let junk = f.dir + "/junk.mp4"
        try Data("this is not a video".utf8).write(to: URL(fileURLWithPath: junk))
        var printed = ""
        m = message { try runPredict(checkpoint: f.checkpoint, videos: [video, junk], topK: nil, timeline: false, windowStride: nil, json: false, write: { printed += $0 }) }
        XCTAssertTrue(m.hasPrefix(junk) && m.contains("cannot decode"), m)
        XCTAssertEqual(printed, "")
        m = message { try runPredict(checkpoint: f.checkpoint, videos: [f.dir + "/missing.mp4"], topK: nil, timeline: false, windowStride: nil, json: false, write: { _ in }) }
        XCTAssertTrue(m.contains("missing.mp4") && m.contains("no such file"), m)
        // a missing checkpoint, --window-stride without --timeline, no video
        m = message { try runPredict(checkpoint: f.dir + "/nope.h5", videos: [video], topK: nil, timeline: false, windowStride: nil, json: false, write: { _ in }) }
        XCTAssertTrue(m.contains("nope.h5"), m)
        m = message { try runPredict(checkpoint: f.checkpoint, videos: [video], topK: nil, timeline: false, windowStride: 1, json: false, write: { _ in }) }
        XCTAssertTrue(m.contains("--timeline"), m)
        m = message { try runPredict(checkpoint: f.checkpoint, videos: [], topK: nil, timeline: false, windowStride: nil, json: false, write: { _ in }) }
        XCTAssertTrue(m.contains("no video"), m)
    }

    func testAnEmptyOrUnlabeledValListStopsTheRunBeforeTraining() throws {
        let f = try Self.prepared()
        let empty = f.dir + "/empty.csv", unlabeled = f.dir + "/unlabeled.csv"
        try "".write(toFile: empty, atomically: true, encoding: .utf8)
        try "move_up/clip_0.mp4\n".write(toFile: unlabeled, atomically: true, encoding: .utf8)
        for (list, words) in [(empty, "no videos"), (unlabeled, "no label")] {
            for evalOnly in [false, true] {
                let cfg = try ftRunConfig(task: "finetune", dir: f.dir + "/run", extra: [
                    "data": ["train_list": f.dir + "/train.csv", "val_list": list, "root": f.dir] as [String: Any],
                ])
                XCTAssertThrowsError(try Trainer(config: cfg, quiet: true, evalOnly: evalOnly).run()) { e in
                    let m = (e as? UserError)?.message ?? "not a UserError: \(e)"
                    XCTAssertTrue(m.hasPrefix("data.val_list") && m.contains(words), m)
                }
            }
        }
        // --eval-only with a pretraining checkpoint
        let cfg = try ftRunConfig(task: "finetune", dir: f.dir + "/run", extra: [
            "data": ["train_list": f.dir + "/train.csv", "val_list": f.dir + "/train.csv", "root": f.dir] as [String: Any],
        ])
        XCTAssertThrowsError(try Trainer(config: cfg, resume: f.pretrainCheckpoint, quiet: true, evalOnly: true).run()) { e in
            let m = (e as? UserError)?.message ?? "not a UserError: \(e)"
            XCTAssertTrue(m.contains("pretrain checkpoint"), m)
        }
    }
}

func ftAssertClose(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(a) vs \(b)", file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, "\(a) vs \(b)", file: file, line: line) }
}
