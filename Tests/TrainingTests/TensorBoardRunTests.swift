import Foundation
import RunConfig
import TensorBoard
import TestSupport
import Training
import XCTest

/// The TensorBoard log of real runs, read back with vmae's own reader (CRCs checked):
/// every tag issue 18 lists, at the right steps, no step twice after a resume.
final class TensorBoardRunTests: XCTestCase {
    static let trainTags = ["train/loss", "train/lr", "train/min_lr", "train/weight_decay", "train/grad_norm",
                            "perf/step_s", "perf/data_wait_s", "perf/clips_per_s"]

    /// (tag → steps) of every scalar, image and text over the folder's files, in reading order.
    func series(_ logDir: String) throws -> (scalars: [String: [Int]], images: [String: [Int]], texts: [String: [Int]]) {
        var s: [String: [Int]] = [:], i: [String: [Int]] = [:], t: [String: [Int]] = [:]
        for f in EventReader.files(logDir: logDir) {
            for e in try EventReader.events(path: f) {
                for v in e.summary.value {
                    switch v.value {
                    case .simpleValue?: s[v.tag, default: []].append(Int(e.step))
                    case .image(let img)?:
                        XCTAssertEqual(Array(img.encodedImageString.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "\(v.tag) is a PNG")
                        XCTAssertGreaterThan(img.width, 0)
                        i[v.tag, default: []].append(Int(e.step))
                    case .tensor?: t[v.tag, default: []].append(Int(e.step))
                    default: XCTFail("unexpected value for \(v.tag)")
                    }
                }
            }
        }
        return (s, i, t)
    }

    func testPretrainingAndResumeLogEveryTagOnceAtItsSteps() throws {
        let root = TT.scratch("tb-pretrain", self)
        var tree = TT.tinyTree(outputDir: root + "/run", steps: 8)
        tree["checkpoint"] = ["every_steps": 2, "keep_last": 3]
        let cfg = try TT.config(tree, in: root)
        for (stop, resume) in [(4, nil), (nil, "auto") as (Int?, String?)] {
            let t = Trainer(config: cfg, stopAt: stop, resume: resume, quiet: true)
            CheckpointPictures(config: cfg).install(on: t)
            _ = try t.run()
        }
        let files = EventReader.files(logDir: root + "/run/tb")
        XCTAssertEqual(files.count, 2, "a resumed run writes a file of its own: \(files)")
        for f in files { XCTAssertTrue((f as NSString).lastPathComponent.hasPrefix("events.out.tfevents."), f) }
        let first = try EventReader.events(path: files[0]), second = try EventReader.events(path: files[1])
        XCTAssertEqual(first[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(second[0].fileVersion, "brain.Event:2")
        // TensorBoard's restart mark at the first step the resumed run does
        XCTAssertEqual(second[1].sessionLog.status, .start)
        XCTAssertEqual(second[1].step, 5)
        XCTAssertFalse(first.contains { $0.sessionLog.status == .start })

        let (scalars, images, texts) = try series(root + "/run/tb")
        for tag in Self.trainTags { XCTAssertEqual(scalars[tag], Array(1...8), tag) }
        XCTAssertNil(scalars["train/loss_scale"], "no loss scale in float32 training")
        XCTAssertNil(scalars["val/loss"])
        XCTAssertEqual(images["recon"], [2, 4, 6, 8])
        XCTAssertEqual(texts["config"], [0, 4])   // each run says its config at the step it starts from

        // the same numbers as metrics.jsonl: one mapping feeds both
        let records = try String(contentsOfFile: root + "/run/metrics.jsonl").split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let tbLoss = try EventReader.scalars("train/loss", logDir: root + "/run/tb")
        XCTAssertEqual(tbLoss.map(\.step), records.compactMap { $0["step"] as? Int })
        XCTAssertEqual(tbLoss.map(\.value), records.compactMap { ($0["loss"] as? Double).map(Float.init) })

        // the config text is the resolved config, as JSON in a Markdown code block
        let configEvent = first.first { $0.summary.value.first?.tag == "config" }!
        let text = String(decoding: configEvent.summary.value[0].tensor.stringVal[0], as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("```json\n") && text.hasSuffix("\n```"), text)
        XCTAssertTrue(text.contains("\"output_dir\"") && text.contains("\"every_steps\" : 2"), text)
        XCTAssertEqual(configEvent.summary.value[0].metadata.pluginData.pluginName, "text")
    }

    func testFineTuningLogsValidationScalarsAndTheConfusionImage() throws {
        let dir = TT.scratch("tb-finetune", self)
        let cfg = try ftRunConfig(task: "finetune", dir: dir + "/run", extra: [
            "data": ["val_list": "random:6"], "model": ["num_classes": 3],
            "optim": ["max_steps": NSNull(), "epochs": 2, "batch_size": 4],
            "finetune": ["test_num_segment": 1, "test_num_crop": 1],
        ])
        _ = try Trainer(config: cfg, quiet: true).run()
        let (scalars, images, texts) = try series(dir + "/run/tb")
        for tag in Self.trainTags { XCTAssertEqual(scalars[tag], [1, 2, 3, 4], tag) }
        for tag in ["val/loss", "val/top1", "val/top5"] { XCTAssertEqual(scalars[tag], [2, 4], tag) }
        XCTAssertEqual(images["val/confusion"], [2, 4])
        XCTAssertEqual(texts["config"], [0])
        // with layer decay the smallest lr is below the head's
        let lr = try EventReader.scalars("train/lr", logDir: dir + "/run/tb")
        let minLr = try EventReader.scalars("train/min_lr", logDir: dir + "/run/tb")
        XCTAssertLessThan(minLr[0].value, lr[0].value)
    }

    func testTurnedOffThereIsNoLog() throws {
        let root = TT.scratch("tb-off", self)
        let cfg = try TT.config(TT.tinyTree(outputDir: root + "/run", steps: 2), in: root, overrides: ["log.tensorboard=false"])
        XCTAssertFalse(cfg.log.tensorboard)
        _ = try Trainer(config: cfg, quiet: true).run()
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/run/tb"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/run/metrics.jsonl"))
    }

    func testMetricsKeysMapToTheOriginalsTags() {
        let tags = Dictionary(uniqueKeysWithValues: TensorBoardLog.scalars(of: [
            "step": 3, "epoch": 0, "loss": 0.5, "lr": 1e-3, "min_lr": 1e-4, "weight_decay": 0.05, "grad_norm": 2.0,
            "clips_per_s": 9.0, "step_s": 0.25, "data_wait_s": 0.01, "train_acc": 50.0, "loss_vs_mean": 0.9,
            "val_loss": 1.1, "val_top1": 40.0, "val_top5": 90.0, "val_videos": 6, "eval_s": 1.5,
            "ranks": 2, "effective_batch": 8, "eval_only": true, "checkpoint": "x.h5",
        ]).map { ($0.tag, $0.value) })
        XCTAssertEqual(Set(tags.keys), ["train/epoch", "train/loss", "train/lr", "train/min_lr", "train/weight_decay",
                                        "train/grad_norm", "perf/clips_per_s", "perf/step_s", "perf/data_wait_s", "train/acc",
                                        "train/loss_vs_mean", "val/loss", "val/top1", "val/top5", "perf/eval_s"])
        XCTAssertEqual(tags["train/loss_vs_mean"], 0.9)
        XCTAssertEqual(tags["val/top1"], 40)
        XCTAssertEqual(tags["train/epoch"], 0)
    }
}
