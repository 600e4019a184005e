import Autodiff
import Checkpoint
import Foundation
import NN
import Optim
import TensorCore
import TestSupport
import VideoMAE
import XCTest

@testable import Interop
@testable import RunConfig
@testable import Training

/// `vmae import` / `vmae export` against the Hugging Face folders of Tests/Fixtures/hf (made by
/// Tools/weights/make_hf_fixtures.py with save_pretrained, outputs recorded by transformers).
final class ImportExportTests: XCTestCase {
    static let fixtures = TT.packageRoot + "/Tests/Fixtures/hf"
    func fx(_ name: String) -> String { Self.fixtures + "/" + name }

    // ---- helpers -----------------------------------------------------------------------------

    func modelConfig(_ ck: Checkpoint) throws -> ModelConfig {
        let tree = try JSONSerialization.jsonObject(with: Data(ck.config.utf8)) as! [String: Any]
        let cfg = try TrainConfig.resolve(tree, source: "checkpoint")
        return cfg.modelConfig(numClasses: ck.modelTensor("head.weight")?.shape[0] ?? 1)
    }

    /// max |a − b| / max |b|
    func relative(_ a: Tensor, _ b: Tensor) -> Double {
        XCTAssertEqual(a.count, b.count)
        var diff = 0.0, scale = 0.0
        for i in 0..<min(a.count, b.count) {
            diff = max(diff, abs(Double(a.data[i]) - Double(b.data[i])))
            scale = max(scale, abs(Double(b.data[i])))
        }
        return diff / max(scale, 1e-30)
    }

    func assertBitwiseEqual(_ a: Checkpoint, _ b: Checkpoint, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.model.map(\.0).sorted(), b.model.map(\.0).sorted(), file: file, line: line)
        let bb = Dictionary(b.model, uniquingKeysWith: { x, _ in x })
        for (n, t) in a.model {
            guard let u = bb[n] else { continue }
            XCTAssertEqual(t.shape, u.shape, n, file: file, line: line)
            XCTAssertEqual(TT.bytes(t), TT.bytes(u), "\(n) is not bitwise identical", file: file, line: line)
        }
    }

    func importFixture(_ name: String, task: String? = nil) throws -> (Checkpoint, ImportReport) {
        var o = ImportOptions(source: fx(name))
        o.task = task
        return try WeightImport.load(o)
    }

    // ---- the reader --------------------------------------------------------------------------

    /// A hand-made file: F32 at an odd offset, F16 (normal, subnormal, inf), BF16, metadata.
    func testReaderConvertsF32F16BF16() throws {
        let dir = TT.scratch("st-dtypes", self)
        let path = dir + "/t.safetensors"
        var data = Data()
        let f16: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x0001, 0x7C00, 0x0000, 0x8000, 0x7BFF]
        let bf16: [UInt16] = [0x3F80, 0xC040, 0x3E00]
        let f32: [Float] = [1.5, -0.25, 3e-20]
        for v in f16 { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }   // 16 bytes
        for v in bf16 { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }  // 6 bytes → F32 at 22
        for v in f32 { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        let header = #"{"__metadata__":{"format":"pt","note":"x"},"h":{"dtype":"F16","shape":[2,4],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]},"f":{"dtype":"F32","shape":[3],"data_offsets":[22,34]}}"#
        try Self.writeSafetensors(header: header, data: data, to: path)
        let f = try SafetensorsFile(path: path)
        XCTAssertEqual(f.metadata, ["format": "pt", "note": "x"])
        XCTAssertEqual(f.names, ["h", "b", "f"])
        XCTAssertEqual(f.entry("h")?.shape, [2, 4])
        XCTAssertEqual(try f.tensor("h").array, [1, -2, 0.5, 0x1p-24, .infinity, 0, -0.0, 65504])
        XCTAssertEqual(try f.tensor("b").array, [1, -3, 0.125])
        XCTAssertEqual(try f.tensor("f").array, f32)
        XCTAssertThrowsError(try f.tensor("nope"))
    }

    static func writeSafetensors(header: String, data: Data, to path: String) throws {
        var out = Data()
        let h = Data(header.utf8)
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(h)
        out.append(data)
        try out.write(to: URL(fileURLWithPath: path))
    }

    /// Headers that lie, files that are cut or are something else: errors, never a crash.
    func testReaderRefusesBadFiles() throws {
        let dir = TT.scratch("st-bad", self)
        let data = Data(repeating: 0, count: 64)
        let cases: [(String, String)] = [
            (#"{"a":{"dtype":"F32","shape":[4,4],"data_offsets":[0,32]}}"#, "header lies about sizes"),
            (#"{"a":{"dtype":"F32","shape":[4,8],"data_offsets":[0,128]}}"#, "ends at byte 128"),
            (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#, "overlap"),
            (#"{"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}"#, "not a non-negative integer"),
            (#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}"#, "impossible shape"),
            (#"{"a":{"dtype":"Q7","shape":[4],"data_offsets":[0,16]}}"#, "unknown dtype"),
            (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}}"#, "out of order"),
            (#"{"a":{"dtype":"F32","shape":[4]}}"#, "no data_offsets"),
            (#"{"a": [1, 2"#, "not valid JSON"),
            (#"[1, 2, 3]"#, "not a JSON object"),
        ]
        for (i, (header, expect)) in cases.enumerated() {
            let p = dir + "/bad\(i).safetensors"
            try Self.writeSafetensors(header: header, data: data, to: p)
            XCTAssertThrowsError(try SafetensorsFile(path: p), header) { e in
                XCTAssertTrue("\(e)".contains(expect), "\(header): \(e)")
            }
        }
        // a header length past the end, a file too short, text, HDF5
        var lying = Data()
        withUnsafeBytes(of: UInt64(5000).littleEndian) { lying.append(contentsOf: $0) }
        lying.append(Data("{}".utf8))
        try lying.write(to: URL(fileURLWithPath: dir + "/len.safetensors"))
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/short.safetensors"))
        try Data("hello, this is not a tensor file\n".utf8).write(to: URL(fileURLWithPath: dir + "/text.safetensors"))
        for (name, expect) in [("len", "truncated"), ("short", "too short"), ("text", "not a safetensors file")] {
            XCTAssertThrowsError(try SafetensorsFile(path: dir + "/\(name).safetensors")) { e in
                XCTAssertTrue("\(e)".contains(expect), "\(name): \(e)")
            }
        }
        XCTAssertThrowsError(try SafetensorsFile(path: TT.packageRoot + "/Tests/Fixtures/pretrain_tube.h5")) { e in
            XCTAssertTrue("\(e)".contains("not a safetensors file"), "\(e)")
        }
    }

    // ---- import reproduces transformers' outputs ---------------------------------------------

    func testPretrainImportGivesRecordedLossAndReconstruction() throws {
        let (ck, report) = try importFixture("pretrain")
        XCTAssertEqual(ck.task, "pretrain")
        XCTAssertEqual(ck.step, 0)
        XCTAssertEqual(report.missing, [])
        XCTAssertEqual(report.unused, [])
        XCTAssertEqual(report.loaded.count, ck.model.count)
        XCTAssertTrue(report.notes.contains { $0.contains("decoder.norm uses eps 1e-5") }, "\(report.notes)")
        let mc = try modelConfig(ck)
        XCTAssertEqual(mc.encoder_embed_dim, 32)
        XCTAssertEqual(mc.layer_norm_eps, 1e-12)
        XCTAssertEqual(mc.mlp_ratio, 4)
        XCTAssertTrue(mc.normalize_target)
        let model = PretrainModel(mc)
        try ModelState.load(model, from: ck, path: "imported")

        let e = try SafetensorsFile(path: fx("pretrain.expected.safetensors"))
        let pixels = try e.tensor("pixel_values"), m = try e.tensor("mask")
        let (B, N) = (m.shape[0], m.shape[1])
        let mask = Mask(masked: (0..<B).map { b in (0..<N).map { m.data[b * N + $0] != 0 } })
        let ctx = ForwardContext.inference()
        let loss = Tape.noGrad { model.loss(pixels, mask: mask, ctx) }.value[flat: 0]
        let pred = Tape.noGrad { model.predict(Variable(pixels), mask: mask, ctx) }.value
        let want = try e.tensor("loss")[flat: 0]
        let lossRel = abs(Double(loss) - Double(want)) / abs(Double(want))
        let predRel = relative(pred, try e.tensor("logits"))
        print("hf pretrain: loss \(loss) vs transformers \(want): rel \(lossRel); reconstruction rel \(predRel)")
        XCTAssertLessThan(lossRel, 1e-4)
        XCTAssertLessThan(predRel, 1e-4)
    }

    func testClassifierImportFromBF16GivesRecordedLogits() throws {
        let (ck, report) = try importFixture("classify_bf16")
        XCTAssertEqual(ck.task, "finetune")
        XCTAssertEqual(report.missing, [])
        XCTAssertEqual(report.unused, [])
        XCTAssertEqual(report.dtypes, "BF16")
        XCTAssertEqual(storedClassNames(ck), ["walk", "run", "jump", "swim", "climb"])
        let mc = try modelConfig(ck)
        XCTAssertEqual(mc.num_classes, 5)
        let model = Classifier(mc)
        try ModelState.load(model, from: ck, path: "imported")

        let e = try SafetensorsFile(path: fx("classify_bf16.expected.safetensors"))
        let pixels = try e.tensor("pixel_values")
        let labels = try e.tensor("labels").array.map { Int($0) }
        let ctx = ForwardContext.inference()
        let logits = Tape.noGrad { model.logits(Variable(pixels), ctx) }.value
        let loss = Tape.noGrad { model.loss(pixels, labels: labels, smoothing: 0, ctx).loss }.value[flat: 0]
        let want = try e.tensor("loss")[flat: 0]
        let logitsRel = relative(logits, try e.tensor("logits"))
        let lossRel = abs(Double(loss) - Double(want)) / abs(Double(want))
        print("hf classify (bf16): logits rel \(logitsRel); loss \(loss) vs \(want): rel \(lossRel)")
        XCTAssertLessThan(logitsRel, 1e-4)
        XCTAssertLessThan(lossRel, 1e-4)
    }

    func testShardedF16BaseModelGivesRecordedHiddenStates() throws {
        let (ck, report) = try importFixture("model_f16_sharded")
        XCTAssertEqual(ck.task, "pretrain")
        XCTAssertEqual(report.dtypes, "F16")
        // VideoMAEModel has no decoder: it starts fresh, and the report says so
        XCTAssertTrue(report.missing.contains("decoder.head.weight") && report.missing.contains("mask_token"))
        XCTAssertFalse(report.missing.contains { $0.hasPrefix("encoder.") })
        XCTAssertTrue(report.warnings.contains { $0.contains("no decoder") })
        let mc = try modelConfig(ck)
        XCTAssertFalse(mc.qkv_bias)
        XCTAssertEqual(mc.tubelet_size, 4)
        let model = PretrainModel(mc)
        try ModelState.load(model, from: ck, path: "imported")
        let e = try SafetensorsFile(path: fx("model_f16_sharded.expected.safetensors"))
        let pixels = try e.tensor("pixel_values")
        let ctx = ForwardContext.inference()
        let h = Tape.noGrad { model.encoderNorm(model.encoder(Variable(pixels), visible: nil, ctx)) }.value
        let rel = relative(h, try e.tensor("last_hidden_state"))
        print("hf VideoMAEModel (f16, 4 shards): last_hidden_state rel \(rel)")
        XCTAssertLessThan(rel, 1e-4)
    }

    /// The .pth converter's output (original names + its config) is the same model, bit for bit.
    func testOriginalNamesImportLikeHuggingFace() throws {
        let (hf, _) = try importFixture("pretrain")
        let (orig, report) = try importFixture("original_pretrain.safetensors")
        XCTAssertEqual(report.kind, "original VideoMAE names")
        XCTAssertEqual(report.unused, [])
        XCTAssertEqual(report.missing, [])
        assertBitwiseEqual(orig, hf)
        XCTAssertEqual(try modelConfig(orig), try modelConfig(hf))
    }

    // ---- the imported checkpoint is an ordinary one ------------------------------------------

    func testImportedCheckpointInitsFineTuningAndResumesPretraining() throws {
        let dir = TT.scratch("imp-use", self)
        var o = ImportOptions(source: fx("pretrain"), out: dir + "/hf.h5")
        o.configOut = dir + "/starter.json"
        try WeightImport.run(o)
        let ck = try Checkpoint.read(dir + "/hf.h5")
        XCTAssertEqual(ck.ints["optimizer_step"], [0])
        XCTAssertEqual(ck.expAvg.count, ck.model.count)
        XCTAssertTrue(ck.expAvgSq.allSatisfy { m in (0..<m.1.count).allSatisfy { m.1.data[$0] == 0 } })

        // init_from: the whole encoder loads
        var mc = try modelConfig(ck)
        mc.num_classes = 3
        let cls = Classifier(mc)
        let r = try FinetuneInit.load(cls, path: dir + "/hf.h5")
        XCTAssertEqual(Set(r.new), ["fc_norm.weight", "fc_norm.bias", "head.weight", "head.bias"])
        let loaded = cls.parameterDictionary()["blocks.1.attn.qkv.weight"]!.value
        XCTAssertEqual(TT.bytes(loaded), TT.bytes(ck.modelTensor("encoder.blocks.1.attn.qkv.weight")!))

        // resume: continued pretraining from the starter config, two steps on random clips
        var tree = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/starter.json"))) as! [String: Any]
        XCTAssertEqual(tree["task"] as? String, "pretrain")
        tree["output_dir"] = dir + "/run"
        tree["optim"] = ["batch_size": 2, "max_steps": 2, "warmup_steps": 0, "lr": 1e-4, "min_lr": 1e-5]
        tree["checkpoint"] = ["every_steps": 100, "resume": dir + "/hf.h5"]
        tree["log"] = ["every_steps": 1]
        var data = tree["data"] as! [String: Any]
        data["train_list"] = "random:4"
        data["num_workers"] = 0
        tree["data"] = data
        let cfg = try TT.config(tree, in: dir)
        let summary = try Trainer(config: cfg, quiet: true).run()
        XCTAssertEqual(summary.firstStep, 0)
        XCTAssertEqual(summary.lastStep, 2)
        XCTAssertTrue(summary.losses.allSatisfy(\.isFinite))
    }

    // ---- export → import ---------------------------------------------------------------------

    func testExportThenImportIsBitwiseIdentical() throws {
        let dir = TT.scratch("roundtrip", self)
        // imported ones, and vmae-native random ones (eps 1e-6, a preset-free tiny config)
        var cks: [(String, Checkpoint)] = [("pretrain", try importFixture("pretrain").0),
                                           ("classify", try importFixture("classify_bf16").0),
                                           ("sharded", try importFixture("model_f16_sharded").0)]
        let cfg = try TT.config(TT.tinyTree(outputDir: dir + "/unused"), in: dir)
        var mc = cfg.modelConfig(numClasses: 3)
        let pre = PretrainModel(mc)
        pre.initialize(seed: 11)
        cks.append(("native-pretrain", Checkpoint(task: "pretrain", step: 40, epoch: 2, config: cfg.json(), model: ModelState.tensors(of: pre))))
        var ft = try JSONSerialization.jsonObject(with: Data(cfg.json().utf8)) as! [String: Any]
        ft["task"] = "finetune"
        let fcfg = try TrainConfig.resolve(ft, source: "test")
        mc = fcfg.modelConfig(numClasses: 3)
        let cls = Classifier(mc)
        cls.initialize(seed: 12, initScale: 1)
        cks.append(("native-finetune", Checkpoint(task: "finetune", step: 9, epoch: 1, config: fcfg.json(), model: ModelState.tensors(of: cls),
                                                  strings: ["class_names": "[\"cat\",\"dog\",\"eel\"]"])))
        for (name, ck) in cks {
            let path = dir + "/\(name).h5"
            try ck.write(to: path)
            let r = try WeightExport.run(checkpoint: path, out: dir + "/\(name)-hf")
            let st = try SafetensorsFile(path: dir + "/\(name)-hf/model.safetensors")
            XCTAssertEqual(st.metadata["format"], "pt")
            XCTAssertTrue(st.names.contains("videomae.encoder.layer.0.attention.attention.query.weight"), name)
            XCTAssertEqual(st.names.contains("videomae.encoder.layer.0.attention.attention.q_bias"), (try modelConfig(ck)).qkv_bias, name)
            XCTAssertEqual(r.architecture, ck.task == "pretrain" ? "VideoMAEForPreTraining" : "VideoMAEForVideoClassification")
            let (back, report) = try WeightImport.load(ImportOptions(source: dir + "/\(name)-hf"))
            XCTAssertEqual(back.task, ck.task, name)
            XCTAssertEqual(report.missing, [], name)
            XCTAssertEqual(report.unused, [], name)
            assertBitwiseEqual(back, ck)
            var a = try modelConfig(back), b = try modelConfig(ck)
            a.drop_path_rate = 0; b.drop_path_rate = 0
            a.use_mean_pooling = false; b.use_mean_pooling = false
            XCTAssertEqual(a, b, name)
            if ck.task == "finetune" { XCTAssertEqual(storedClassNames(back), storedClassNames(ck), name) }
        }
    }

    // ---- the command line: one clear line and exit 2 -----------------------------------------

    func copyFolder(_ name: String, to dst: String) throws {
        try FileManager.default.copyItem(atPath: fx(name), toPath: dst)
    }

    func expectRefusal(_ args: [String], _ expect: String, scratch: String, out: String? = nil,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try TT.run("vmae", args, scratch: scratch)
        XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.signalled, file: file, line: line)
        XCTAssertEqual(r.stderrLines.count, 1, "\(args): \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderrLines.first?.hasPrefix("error: ") ?? false, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(expect), "\(args): expected '\(expect)' in: \(r.stderr)", file: file, line: line)
        if let out { XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(out) written anyway", file: file, line: line) }
    }

    func testCommandLineRefusesBadSourcesWithOneLine() throws {
        let dir = TT.scratch("cli-bad", self)
        let out = dir + "/ck.h5"
        let weights = try Data(contentsOf: URL(fileURLWithPath: fx("pretrain/model.safetensors")))
        let n = Int(weights.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)

        // corrupted: bytes inside the JSON header overwritten
        try copyFolder("pretrain", to: dir + "/corrupt")
        var c = weights
        for i in 40..<60 { c[i] = 0xFF }
        try c.write(to: URL(fileURLWithPath: dir + "/corrupt/model.safetensors"))
        try expectRefusal(["import", dir + "/corrupt", "--out", out], "corrupted safetensors header", scratch: dir, out: out)

        // truncated: cut inside the data
        try copyFolder("pretrain", to: dir + "/cut")
        try weights.prefix(8 + n + 1000).write(to: URL(fileURLWithPath: dir + "/cut/model.safetensors"))
        try expectRefusal(["import", dir + "/cut", "--out", out], "truncated", scratch: dir, out: out)

        // not safetensors: an HDF5 file, a text file
        try copyFolder("pretrain", to: dir + "/h5")
        try FileManager.default.removeItem(atPath: dir + "/h5/model.safetensors")
        try FileManager.default.copyItem(atPath: TT.packageRoot + "/Tests/Fixtures/pretrain_tube.h5", toPath: dir + "/h5/model.safetensors")
        try expectRefusal(["import", dir + "/h5", "--out", out], "not a safetensors file", scratch: dir, out: out)
        try Data("not tensors at all\n".utf8).write(to: URL(fileURLWithPath: dir + "/text.safetensors"))
        try expectRefusal(["import", dir + "/text.safetensors", "--config", fx("pretrain/config.json"), "--out", out],
                          "not a safetensors file", scratch: dir, out: out)

        // a header that lies about sizes: one shape grown, offsets kept (same header length)
        try copyFolder("pretrain", to: dir + "/lies")
        var header = String(decoding: weights[8..<(8 + n)], as: UTF8.self)
        let before = #""mask_token":{"dtype":"F32","shape":[1,1,16]"#
        XCTAssertTrue(header.contains(before))
        header = header.replacingOccurrences(of: before, with: #""mask_token":{"dtype":"F32","shape":[1,1,99]"#)
        var lied = weights
        lied.replaceSubrange(8..<(8 + n), with: Data(header.utf8))
        try lied.write(to: URL(fileURLWithPath: dir + "/lies/model.safetensors"))
        try expectRefusal(["import", dir + "/lies", "--out", out], "header lies about sizes", scratch: dir, out: out)

        // configs that do not fit the tensors
        for (key, value, expect) in [("hidden_size", "48", "config does not fit the tensors"),
                                     ("num_hidden_layers", "3", "config does not fit the tensors"),
                                     ("num_hidden_layers", "1", "config does not fit the tensors"),
                                     ("decoder_num_hidden_layers", "0", "config does not fit the tensors"),
                                     ("patch_size", "16", "config does not fit the tensors"),
                                     ("num_attention_heads", "5", "5 heads do not divide hidden_size 32"),
                                     ("hidden_act", "\"relu\"", "exact (erf) GELU")] {
            let d = dir + "/cfg-\(key)-\(value.filter(\.isLetter).isEmpty ? value : "s")"
            try copyFolder("pretrain", to: d)
            var cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d + "/config.json"))) as! [String: Any]
            cfg[key] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
            try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: d + "/config.json"))
            try expectRefusal(["import", d, "--out", out], expect, scratch: dir, out: out)
        }
        // a classifier whose id2label does not match its head
        try copyFolder("classify_bf16", to: dir + "/labels")
        var cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/labels/config.json"))) as! [String: Any]
        cfg["id2label"] = ["0": "a", "1": "b"]
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: dir + "/labels/config.json"))
        try expectRefusal(["import", dir + "/labels", "--out", out], "config does not fit the tensors", scratch: dir, out: out)

        // no such source, a .pth, a folder without weights, export of a non-checkpoint
        try expectRefusal(["import", dir + "/nope", "--out", out], "no such file or folder", scratch: dir, out: out)
        try Data([0x80, 0x02]).write(to: URL(fileURLWithPath: dir + "/model.pth"))
        try expectRefusal(["import", dir + "/model.pth", "--out", out], "pth_to_safetensors.py", scratch: dir, out: out)
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fx("pretrain/config.json"), toPath: dir + "/empty/config.json")
        try expectRefusal(["import", dir + "/empty", "--out", out], "no model.safetensors", scratch: dir, out: out)
        try expectRefusal(["import", fx("pretrain"), "--out", out, "--task", "classify"], "--task", scratch: dir, out: out)
        try expectRefusal(["export", fx("pretrain/model.safetensors"), "--out", dir + "/x"], "not a readable HDF5 file", scratch: dir)
    }

    func testCommandLineImportExportImport() throws {
        let dir = TT.scratch("cli-ok", self)
        let r1 = try TT.run("vmae", ["import", fx("classify_bf16"), "--out", dir + "/a.h5"], scratch: dir)
        XCTAssertEqual(r1.status, 0, r1.stderr)
        XCTAssertTrue(r1.stdout.contains("loaded 32 vmae tensors"), r1.stdout)
        XCTAssertTrue(r1.stdout.contains("missing (not in the source, initialized fresh): 0"), r1.stdout)
        XCTAssertTrue(r1.stdout.contains("fc_norm uses eps 1e-5"), r1.stdout)
        let r2 = try TT.run("vmae", ["export", dir + "/a.h5", "--out", dir + "/hf"], scratch: dir)
        XCTAssertEqual(r2.status, 0, r2.stderr)
        XCTAssertTrue(r2.stdout.contains("VideoMAEForVideoClassification"), r2.stdout)
        let hfConfig = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/hf/config.json"))) as! [String: Any]
        XCTAssertEqual(hfConfig["id2label"] as? [String: String], ["0": "walk", "1": "run", "2": "jump", "3": "swim", "4": "climb"])
        XCTAssertEqual(hfConfig["use_mean_pooling"] as? Bool, true)
        let r3 = try TT.run("vmae", ["import", dir + "/hf", "--out", dir + "/b.h5"], scratch: dir)
        XCTAssertEqual(r3.status, 0, r3.stderr)
        assertBitwiseEqual(try Checkpoint.read(dir + "/b.h5"), try Checkpoint.read(dir + "/a.h5"))
    }
}
