import Autodiff
import Checkpoint
import DataPipeline
import Foundation
import NN
import Optim
import TensorCore
import TestSupport
import VideoMAE
import XCTest

@testable import ExitStatus
@testable import RunConfig
@testable import Training

final class FinetuneTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try ftTempDir("ft") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    // MARK: init from a pretraining checkpoint

    func testLoadingAPretrainingCheckpointStripsTheEncoderPrefixAndReports() throws {
        let mc = ftModelConfig()
        let path = dir + "/pre.h5"
        let pre = try ftWritePretrainCheckpoint(mc, to: path)
        let clf = Classifier(mc)
        clf.initialize(seed: 9)
        let headBefore = clf.head.weight.value.array
        let report = try FinetuneInit.load(clf, path: path)

        let preParams = pre.parameterDictionary()
        for (name, p) in clf.namedParameters() where !name.hasPrefix("fc_norm.") && !name.hasPrefix("head.") {
            XCTAssertEqual(p.value.array, preParams["encoder." + name]!.value.array, name)
        }
        XCTAssertEqual(clf.head.weight.value.array, headBefore, "the head stays as initialized")
        XCTAssertEqual(Set(report.new), ["fc_norm.weight", "fc_norm.bias", "head.weight", "head.bias"])
        XCTAssertEqual(report.loaded.count, clf.namedParameters().count - 4)
        XCTAssertTrue(report.loaded.contains("blocks.1.mlp.fc2.weight"))
        XCTAssertTrue(report.ignored.contains("encoder.norm.weight"))
        XCTAssertTrue(report.ignored.contains("encoder.norm.bias"))
        XCTAssertTrue(report.ignored.contains("mask_token"))
        XCTAssertTrue(report.ignored.contains("encoder_to_decoder.weight"))
        XCTAssertTrue(report.ignored.contains("decoder.blocks.0.attn.qkv.weight"))
        XCTAssertFalse(report.ignored.contains { $0.hasPrefix("encoder.blocks") })
        XCTAssertEqual(report.loaded.count + report.ignored.count, pre.namedParameters().count)
        let lines = report.lines(path: path)
        XCTAssertTrue(lines[0].contains("blocks.0-1.*"), lines[0])
        XCTAssertTrue(lines[2].contains("encoder.norm.*"), lines[2])
    }

    func testAShapeMismatchNamesTheTensorAndBothShapesAndLeavesTheModelAlone() throws {
        let path = dir + "/pre.h5"
        _ = try ftWritePretrainCheckpoint(ftModelConfig(patch: 8), to: path)
        let clf = Classifier(ftModelConfig(patch: 16))
        clf.initialize(seed: 9)
        let before = clf.namedParameters().map { $0.1.value.array }
        XCTAssertThrowsError(try FinetuneInit.load(clf, path: path)) { e in
            let m = (e as? UserError)?.message ?? "\(e)"
            XCTAssertTrue(m.contains("encoder.patch_embed.proj.weight"), m)
            XCTAssertTrue(m.contains("[32, 3, 2, 8, 8]"), m)
            XCTAssertTrue(m.contains("[32, 3, 2, 16, 16]"), m)
        }
        XCTAssertEqual(clf.namedParameters().map { $0.1.value.array }, before)

        // a width mismatch
        var wide = ftModelConfig()
        wide.encoder_embed_dim = 64
        XCTAssertThrowsError(try FinetuneInit.load(Classifier(wide), path: path)) { e in
            let m = (e as? UserError)?.message ?? "\(e)"
            XCTAssertTrue(m.contains("[32]") && m.contains("[64]"), m)
        }
    }

    func testInitFromACheckpointOfAnotherTaskOrAMissingFileIsAUserError() throws {
        let path = dir + "/ft.h5"
        _ = try ftWritePretrainCheckpoint(ftModelConfig(), to: path, task: "finetune")
        XCTAssertThrowsError(try FinetuneInit.load(Classifier(ftModelConfig()), path: path)) { e in
            let m = (e as? UserError)?.message ?? "\(e)"
            XCTAssertTrue(m.contains("finetune checkpoint") && m.contains("pretrain"), m)
        }
        XCTAssertThrowsError(try FinetuneInit.load(Classifier(ftModelConfig()), path: dir + "/nope.h5")) { e in
            XCTAssertTrue(e is UserError, "\(e)")
        }
    }

    // MARK: layer decay and the optimizer

    func testLayerDecayScalesPerBlockAsTheOriginal() {
        let ld = LayerDecay(depth: 2, decay: 0.5)   // num_layers = 3
        XCTAssertEqual(ld.layerId("patch_embed.proj.weight"), 0)
        XCTAssertEqual(ld.layerId("blocks.0.attn.qkv.weight"), 1)
        XCTAssertEqual(ld.layerId("blocks.1.norm2.bias"), 2)
        XCTAssertEqual(ld.layerId("fc_norm.weight"), 3)
        XCTAssertEqual(ld.layerId("head.bias"), 3)
        XCTAssertEqual(ld.scale("patch_embed.proj.bias"), 0.125)
        XCTAssertEqual(ld.scale("blocks.0.mlp.fc1.weight"), 0.25)
        XCTAssertEqual(ld.scale("blocks.1.attn.proj.weight"), 0.5)
        XCTAssertEqual(ld.scale("head.weight"), 1)
        // 12 blocks at 0.75: block 11 gets 0.75, block 0 gets 0.75^12, patch_embed 0.75^13
        let b = LayerDecay(depth: 12, decay: 0.75)
        XCTAssertEqual(b.scale("blocks.11.attn.qkv.weight"), 0.75, accuracy: 1e-7)
        XCTAssertEqual(b.scale("blocks.0.attn.qkv.weight"), Float(pow(0.75, 12.0)), accuracy: 1e-7)
        XCTAssertEqual(b.scale("patch_embed.proj.weight"), Float(pow(0.75, 13.0)), accuracy: 1e-7)
        XCTAssertEqual(LayerDecay(depth: 4, decay: 1).scale("patch_embed.proj.weight"), 1)
    }

    func testTheOptimizerCarriesLayerScalesAndSkipsDecayForBiasesAndNorms() throws {
        let cfg = try ftRunConfig(task: "finetune", dir: dir, extra: ["optim": ["layer_decay": 0.5]])
        let clf = Classifier(cfg.modelConfig(numClasses: 3))
        let (opt, trainable) = FinetuneRunner.optimizer(for: clf, cfg)
        XCTAssertEqual(trainable.count, clf.namedParameters().count)
        XCTAssertEqual(opt.beta1, 0.9)
        XCTAssertEqual(opt.beta2, 0.999)
        let slots = Dictionary(uniqueKeysWithValues: opt.slots.map { ($0.name, $0) })
        XCTAssertEqual(slots["patch_embed.proj.weight"]!.lrScale, 0.125)
        XCTAssertEqual(slots["blocks.0.attn.qkv.weight"]!.lrScale, 0.25)
        XCTAssertEqual(slots["blocks.1.mlp.fc2.weight"]!.lrScale, 0.5)
        XCTAssertEqual(slots["head.weight"]!.lrScale, 1)
        XCTAssertTrue(slots["blocks.0.attn.qkv.weight"]!.decay)
        XCTAssertTrue(slots["head.weight"]!.decay)
        XCTAssertTrue(slots["patch_embed.proj.weight"]!.decay)
        for n in ["blocks.0.norm1.weight", "blocks.0.attn.q_bias", "blocks.0.mlp.fc1.bias", "fc_norm.weight", "head.bias",
                  "patch_embed.proj.bias"] {
            XCTAssertFalse(slots[n]!.decay, n)
        }

        let probe = try ftRunConfig(task: "finetune", dir: dir, extra: ["finetune": ["freeze_encoder": true]])
        let (opt2, trainable2) = FinetuneRunner.optimizer(for: Classifier(probe.modelConfig(numClasses: 3)), probe)
        XCTAssertEqual(Set(trainable2.map(\.0)), ["fc_norm.weight", "fc_norm.bias", "head.weight", "head.bias"])
        XCTAssertEqual(opt2.slots.count, 4)
    }

    // MARK: the loop

    func testALinearProbeLeavesTheEncoderUnchangedAndTrainsTheHead() throws {
        let mc = ftModelConfig(classes: 2)
        let pre = dir + "/pre.h5"
        let preModel = try ftWritePretrainCheckpoint(mc, to: pre)
        let cfg = try ftRunConfig(task: "finetune", dir: dir + "/run", extra: [
            "finetune": ["freeze_encoder": true], "checkpoint": ["init_from": pre],
            "model": ["num_classes": 2, "drop_path_rate": 0.1] as [String: Any],
        ])
        let s = try Trainer(config: cfg, quiet: true).run()
        XCTAssertEqual(s.lastStep, 2)
        let ck = try Checkpoint.read(try XCTUnwrap(s.checkpoint))
        XCTAssertEqual(ck.task, "finetune")
        XCTAssertEqual(ck.expAvg.map(\.0).sorted(), ["fc_norm.bias", "fc_norm.weight", "head.bias", "head.weight"])
        let preParams = preModel.parameterDictionary()
        let fresh = Classifier(mc)
        fresh.initialize(seed: 3)
        for (name, t) in ck.model {
            if name.hasPrefix("head.") || name.hasPrefix("fc_norm.") {
                let initial = fresh.parameterDictionary()[name]!.value.array
                XCTAssertNotEqual(t.array, initial, "\(name) trained")
            } else {
                XCTAssertEqual(t.array, preParams["encoder." + name]!.value.array, "\(name) frozen")
            }
        }
        XCTAssertEqual(storedClassNames(ck), ["class0", "class1"])
    }

    func testFullFineTuningMovesTheEncoderAndResumesExactly() throws {
        // init_from a pretraining run's folder: its newest checkpoint
        let pre = dir + "/pre/checkpoint-00000007.h5"
        _ = try ftWritePretrainCheckpoint(ftModelConfig(classes: 2), to: pre)
        let extra: [String: Any] = ["checkpoint": ["init_from": dir + "/pre", "every_steps": 2], "model": ["num_classes": 2],
                                    "optim": ["max_steps": 4, "batch_size": 4, "warmup_steps": 1]]
        let a = try Trainer(config: try ftRunConfig(task: "finetune", dir: dir + "/a", extra: extra), quiet: true).run()
        let b1 = try Trainer(config: try ftRunConfig(task: "finetune", dir: dir + "/b", extra: extra), stopAt: 2, quiet: true).run()
        XCTAssertEqual(b1.lastStep, 2)
        let b2 = try Trainer(config: try ftRunConfig(task: "finetune", dir: dir + "/b", extra: extra), resume: "auto", quiet: true).run()
        XCTAssertEqual(b2.firstStep, 2)
        XCTAssertEqual(a.losses.suffix(2), b2.losses[...])
        let ca = try Checkpoint.read(a.checkpoint!), cb = try Checkpoint.read(b2.checkpoint!)
        for ((n, x), (_, y)) in zip(ca.model, cb.model) { XCTAssertEqual(x.array, y.array, n) }
        let p = try Checkpoint.read(pre)
        XCTAssertNotEqual(ca.modelTensor("blocks.0.attn.qkv.weight")!.array, p.modelTensor("encoder.blocks.0.attn.qkv.weight")!.array)
        // resuming from a pretraining checkpoint is refused
        XCTAssertThrowsError(try Trainer(config: try ftRunConfig(task: "finetune", dir: dir + "/c", extra: extra), resume: pre, quiet: true).run()) {
            XCTAssertTrue($0 is UserError)
        }
    }

    // MARK: multi-view evaluation

    func testMultiViewTestingAveragesSoftmaxNotLogits() {
        let acc = MultiViewAccumulator(videos: 2, classes: 3)
        // video 0: view A says class 0 firmly, view B spreads over 1 and 2. Averaged softmax
        // picks 0 (0.45 vs 0.25 vs 0.30); averaged logits would pick 1.
        acc.add(video: 0, label: 0, logits: [log(0.9), log(0.1), log(1e-9)].map { Float($0) })
        acc.add(video: 0, label: 0, logits: [log(1e-4), log(0.4), log(0.6)].map { Float($0) })
        // video 1 (label 2): both views say 1, class 2 second
        acc.add(video: 1, label: 2, logits: [0, 2, 1])
        acc.add(video: 1, label: 2, logits: [0, 3, 1])
        let r = acc.result(classNames: ["a", "b", "c"], views: 2)
        XCTAssertEqual(r.videos, 2)
        XCTAssertEqual(r.probabilities[0][0], 0.45, accuracy: 1e-3)
        XCTAssertEqual(r.probabilities[0][1], 0.25, accuracy: 1e-3)
        XCTAssertEqual(r.probabilities[0][2], 0.30, accuracy: 1e-3)
        XCTAssertEqual(r.predictions, [0, 1])
        XCTAssertEqual(r.top1, 50)
        XCTAssertEqual(r.top5, 100)          // top-min(5, K): every label is within 3
        XCTAssertEqual(r.confusion, [[1, 0, 0], [0, 0, 0], [0, 1, 0]])
        // loss: mean per-view cross-entropy
        func ce(_ z: [Double], _ y: Int) -> Double { log(z.map { exp($0) }.reduce(0, +)) - z[y] }
        let expected = (ce([log(0.9), log(0.1), log(1e-9)], 0) + ce([log(1e-4), log(0.4), log(0.6)], 0)
                        + ce([0, 2, 1], 2) + ce([0, 3, 1], 2)) / 4
        XCTAssertEqual(r.loss, expected, accuracy: 1e-4)
        XCTAssertTrue(r.perClassCSV().contains("0,a,1,1,100.00"))
        XCTAssertTrue(r.perClassCSV().contains("2,c,1,0,0.00"))
        XCTAssertTrue(r.confusionCSV().hasPrefix("true\\predicted,a,b,c\na,1,0,0\n"), r.confusionCSV())
    }

    func testTheEvaluatorRunsEveryViewOfEveryVideo() throws {
        let ds = FTViewRecordingClips(count: 5, classes: 3)
        let ev = Evaluator(dataset: ds, segments: 2, crops: 3, batchSize: 4, workers: 2, seed: 1)
        XCTAssertEqual(ev.views.count, 6)
        let clf = Classifier(ftModelConfig(classes: 3))
        clf.initialize(seed: 1)
        let r = try ev.run(clf, classNames: ["x", "y", "z"])
        XCTAssertEqual(r.videos, 5)
        XCTAssertEqual(r.views, 6)
        XCTAssertEqual(ds.calls.count, 30)
        var want = Set<String>()
        for v in 0..<5 { for s in 0..<2 { for c in 0..<3 { want.insert("\(v)/\(s)of2/\(c)of3") } } }
        XCTAssertEqual(Set(ds.calls), want)
        XCTAssertEqual(r.labels, [0, 1, 2, 0, 1])
        // the same as scoring each view alone and averaging the softmax
        let acc = MultiViewAccumulator(videos: 5, classes: 3)
        for v in 0..<5 {
            for view in ev.views {
                let s = try view.sample(index: v, epoch: 0, seed: 1)
                let z = Tape.noGrad { clf.logits(Variable(s.pixels.reshaped([1] + s.pixels.shape)), ForwardContext.inference()) }
                acc.add(video: v, label: s.label, logits: z.value.array)
            }
        }
        let ref = acc.result(classNames: ["x", "y", "z"], views: 6)
        for (p, q) in zip(r.probabilities, ref.probabilities) {
            for (a, b) in zip(p, q) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        }
        // a label outside the classifier's classes is a UserError
        let bad = FTViewRecordingClips(count: 5, classes: 5)
        XCTAssertThrowsError(try Evaluator(dataset: bad, segments: 1, crops: 1, batchSize: 2, workers: 0, seed: 1)
            .run(clf, classNames: ["x", "y", "z"])) { e in
            XCTAssertTrue(((e as? UserError)?.message ?? "").contains("label 3 of fake:3"), "\(e)")
        }
    }

    func testEvaluationAfterEachEpochWritesMetricsReportsAndTheBestCheckpoint() throws {
        let cfg = try ftRunConfig(task: "finetune", dir: dir + "/run", extra: [
            "data": ["val_list": "random:6"], "model": ["num_classes": 3],
            "optim": ["max_steps": NSNull(), "epochs": 2, "batch_size": 4],
            "finetune": ["test_num_segment": 2, "test_num_crop": 1],
        ])
        let s = try Trainer(config: cfg, quiet: true).run()
        XCTAssertEqual(s.lastStep, 4)   // 8 clips / 4 = 2 steps per epoch
        let lines = try String(contentsOfFile: dir + "/run/metrics.jsonl").split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["val_top1"] != nil }
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines.map { $0["step"] as? Int }, [2, 4])
        XCTAssertEqual(lines.map { $0["epoch"] as? Int }, [0, 1])
        for l in lines { for k in ["val_loss", "val_top1", "val_top5"] { XCTAssertNotNil(l[k] as? Double, k) } }
        let fm = FileManager.default
        XCTAssertTrue(fm.fileExists(atPath: dir + "/run/checkpoint-best.h5"))
        XCTAssertTrue(fm.fileExists(atPath: dir + "/run/per_class_accuracy.csv"))
        XCTAssertTrue(fm.fileExists(atPath: dir + "/run/confusion_matrix.csv"))
        let best = try Checkpoint.read(dir + "/run/checkpoint-best.h5")
        XCTAssertEqual(best.task, "finetune")
        let bestTop1 = lines.compactMap { $0["val_top1"] as? Double }.max()!
        XCTAssertEqual(best.doubles["best_top1"]?.first, bestTop1)

        // --eval-only evaluates checkpoint-best.h5 and adds a line
        let e = try Trainer(config: cfg, quiet: true, evalOnly: true).run()
        XCTAssertEqual(e.checkpoint, dir + "/run/checkpoint-best.h5")
        let after = try String(contentsOfFile: dir + "/run/metrics.jsonl").split(separator: "\n").filter { $0.contains("val_top1") }
        XCTAssertEqual(after.count, 3)
    }

    func testEvalOnlyRefusesAMissingValListOrNoCheckpoint() throws {
        let noVal = try ftRunConfig(task: "finetune", dir: dir + "/x")
        XCTAssertThrowsError(try Trainer(config: noVal, quiet: true, evalOnly: true).run()) { e in
            XCTAssertTrue(((e as? UserError)?.message ?? "").contains("data.val_list"), "\(e)")
        }
        let cfg = try ftRunConfig(task: "finetune", dir: dir + "/x", extra: ["data": ["val_list": "random:4"]])
        XCTAssertThrowsError(try Trainer(config: cfg, quiet: true, evalOnly: true).run()) { e in
            XCTAssertTrue(((e as? UserError)?.message ?? "").contains("no fine-tuning checkpoint"), "\(e)")
        }
    }
}

/// Random clips that record which view of which video was asked for.
final class FTViewRecordingClips: ClipDataset, EvalViewSource {
    let count: Int
    let classNames: [String]
    let view: String
    let recorder: Recorder
    final class Recorder { let lock = NSLock(); var calls: [String] = [] }
    var calls: [String] { recorder.lock.lock(); defer { recorder.lock.unlock() }; return recorder.calls }

    init(count: Int, classes: Int, view: String = "", recorder: Recorder = Recorder()) {
        self.count = count
        classNames = (0..<classes).map { "c\($0)" }
        self.view = view
        self.recorder = recorder
    }

    func sample(index: Int, epoch: Int, seed: UInt64) throws -> Sample {
        recorder.lock.lock(); recorder.calls.append("\(index)/\(view)"); recorder.lock.unlock()
        var rng = RNG(seed, UInt64(index), UInt64(view.hashValue & 0xFFFF))
        let t = Tensor(uninitialized: [4, 3, 32, 32])
        rng.fillNormal(t)
        return Sample(pixels: t, label: index % classNames.count, source: "fake:\(index)")
    }

    func viewDataset(segment: Int, segments: Int, crop: Int, crops: Int) -> ClipDataset {
        FTViewRecordingClips(count: count, classes: classNames.count, view: "\(segment)of\(segments)/\(crop)of\(crops)", recorder: recorder)
    }
}
