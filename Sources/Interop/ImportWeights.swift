import Autodiff
import Checkpoint
import ExitStatus
import Foundation
import NN
import RunConfig
import TensorCore
import VideoMAE

/// What `vmae import` was asked to do.
public struct ImportOptions {
    public var source: String
    public var out: String?
    public var task: String?
    public var config: String?
    public var numClasses: Int?
    public var seed = 0
    /// Called with (tensors copied, of) while the weights are read and converted.
    public var progress: ((Int, Int) -> Void)?
    public var configOut: String?
    public init(source: String, out: String? = nil) { self.source = source; self.out = out }
}

/// `vmae import`: a Hugging Face VideoMAE folder or a safetensors file → an ordinary vmae checkpoint.
public enum WeightImport {
    /// Reads the source and builds the checkpoint (nothing written).
    public static func load(_ o: ImportOptions) throws -> (Checkpoint, ImportReport) {
        var report = ImportReport()
        let (files, configPath) = try locate(o)
        report.source = o.source
        report.sourceTensors = files.names.count
        report.dtypes = files.dtypeSummary
        report.configSource = configPath

        // ---- the config: Hugging Face's config.json, or a vmae config ------------------------
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw UserError("\(configPath): cannot read the config")
        }
        guard let tree = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw UserError("\(configPath): not a JSON object")
        }
        let isVmae = tree["model"] is [String: Any] || tree["task"] != nil
        let hf: HFVideoMAEConfig? = isVmae ? nil : try HFVideoMAEConfig(json: tree, source: configPath)
        let hasHead = files.names.contains { ["head.weight", "classifier.weight"].contains($0) }
        let task = o.task ?? (hf.map { $0.isClassifier ? "finetune" : "pretrain" }) ?? (tree["task"] as? String)
            ?? (hasHead ? "finetune" : "pretrain")
        guard task == "pretrain" || task == "finetune" else {
            throw UserError("--task: must be pretrain or finetune, got \"\(task)\"")
        }
        report.task = task
        let originalNames = files.names.contains { $0.hasPrefix("encoder.blocks.") || $0.hasPrefix("blocks.") || $0.hasPrefix("encoder.patch_embed.") || $0.hasPrefix("patch_embed.") }
        report.kind = originalNames ? "original VideoMAE names" : (hf?.architectures.first ?? "Hugging Face names")

        // number of classes (fine-tuning): flag, then config, then the head's rows
        let headRows = ["classifier.weight", "head.weight"].compactMap { files.entry($0)?.shape.first }.first
        var labels = hf?.labels
        var numClasses: Int?
        if task == "finetune" {
            numClasses = o.numClasses ?? labels?.count ?? (isVmae ? ((tree["model"] as? [String: Any])?["num_classes"]).flatMap(SafetensorsFile.exactInt) : nil) ?? headRows
            guard let k = numClasses, k > 0 else {
                throw UserError("\(o.source): no classifier head and no id2label in \(configPath): pass --num-classes K")
            }
            if labels?.count != k { labels = (0..<k).map { "LABEL_\($0)" } }
        }

        var cfg: TrainConfig
        if let hf {
            var model: [String: Any] = [
                "preset": NSNull(), "patch_size": hf.patchSize, "tubelet_size": hf.tubeletSize, "in_chans": hf.numChannels,
                "encoder_embed_dim": hf.hiddenSize, "encoder_depth": hf.numHiddenLayers, "encoder_num_heads": hf.numAttentionHeads,
                "decoder_embed_dim": hf.decoderHiddenSize, "decoder_depth": hf.decoderNumHiddenLayers,
                "decoder_num_heads": hf.decoderNumAttentionHeads, "mlp_ratio": hf.mlpRatio, "qkv_bias": hf.qvBias,
                "layer_norm_eps": hf.layerNormEps, "use_mean_pooling": hf.useMeanPooling, "normalize_target": hf.normPixLoss,
            ]
            if let k = numClasses { model["num_classes"] = k }
            var dataSection: [String: Any] = ["num_frames": hf.numFrames, "input_size": hf.imageSize]
            if let (mean, std) = preprocessorStats(configPath, channels: hf.numChannels) {
                dataSection["mean"] = mean
                dataSection["std"] = std
            }
            do {
                cfg = try TrainConfig.resolve(["task": task, "model": model, "data": dataSection], source: configPath)
            } catch let e as UserError {
                throw UserError("\(configPath): does not make a vmae model (\(e.message))")
            }
            let mc = cfg.modelConfig(numClasses: numClasses ?? 1)
            if Int(Double(mc.encoder_embed_dim) * mc.mlp_ratio) != hf.intermediateSize {
                throw UserError("\(configPath): intermediate_size \(hf.intermediateSize) is not a whole multiple vmae can express of hidden_size \(hf.hiddenSize)")
            }
        } else {
            var t = tree
            t["task"] = task
            if let k = numClasses, var m = t["model"] as? [String: Any] { m["num_classes"] = k; t["model"] = m }
            else if let k = numClasses { t["model"] = ["num_classes": k] }
            cfg = try TrainConfig.resolve(t, source: configPath)
        }
        guard cfg.model.attention == "joint" else {
            throw UserError("\(configPath): model.attention \"\(cfg.model.attention)\": Hugging Face and original VideoMAE weights are joint space-time attention; set it to \"joint\"")
        }
        let mc = cfg.modelConfig(numClasses: numClasses ?? 1)
        report.model = describe(mc, task: task)

        // ---- the model, initialized as vmae would, then filled from the source ---------------
        let module: Module
        let seed = UInt64(bitPattern: Int64(o.seed))
        if task == "pretrain" {
            let m = PretrainModel(mc)
            m.initialize(seed: seed)
            module = m
        } else {
            let m = Classifier(mc)
            m.initialize(seed: seed)
            module = m
        }
        let params = module.namedParameters()
        var target: [String: (name: String, v: Variable)] = [:]
        for (n, v) in params { target[task == "pretrain" ? n : HFNames.canonical(classifierName: n)] = (n, v) }
        let groups: Set<HFNames.Group> = task == "pretrain" ? [.encoder, .encoderNorm, .decoder] : [.encoder, .classifierHead]

        var fills: [String: [Int: String]] = [:]        // canonical → part (-1 whole) → source name
        var unusedInModelGroups: [(String, NativeSlot)] = []
        for n in files.names {
            guard let slot = HFNames.native(n) else { report.unused.append(n); continue }
            guard target[slot.name] != nil else {
                if groups.contains(HFNames.group(slot.name)) { unusedInModelGroups.append((n, slot)) }
                report.unused.append(n)
                continue
            }
            let key = slot.part ?? -1
            if fills[slot.name]?[key] != nil || (key == -1 && !(fills[slot.name]?.isEmpty ?? true)) || (key >= 0 && fills[slot.name]?[-1] != nil) {
                report.unused.append(n)
                report.warnings.append("'\(n)' is a second tensor for vmae's \(slot) (kept '\(fills[slot.name]!.values.sorted()[0])')")
                continue
            }
            fills[slot.name, default: [:]][key] = n
        }
        let where_ = "\(o.source)"
        if let (n, slot) = unusedInModelGroups.first {
            throw UserError("config does not fit the tensors: \(where_) has '\(n)' (vmae \(slot.name)) but the model from " +
                            "\(configPath) has no such parameter (\(hint(for: slot.name, mc)))")
        }

        // shapes, then copies: nothing is half-loaded when a shape is wrong
        var copies: [(Variable, [(String, Int)])] = []   // destination, (source name, rows)
        var missingByGroup: [HFNames.Group: [String]] = [:]
        var loadedByGroup: [HFNames.Group: [String]] = [:]
        for (n, v) in params {
            let canon = task == "pretrain" ? n : HFNames.canonical(classifierName: n)
            let g = HFNames.group(canon)
            guard let f = fills[canon], !f.isEmpty else { missingByGroup[g, default: []].append(n); continue }
            var pieces: [(String, Int)] = []
            if let whole = f[-1] {
                let s = files.entry(whole)!.shape
                guard s == v.shape else { throw shapeError(whole, s, n, v.shape, files, configPath, mc) }
                pieces = [(whole, v.shape.first ?? 1)]
            } else {
                let rows = v.shape[0] / 3
                for part in 0..<3 {
                    guard let src = f[part] else {
                        let have = f.values.sorted().first!
                        throw UserError("config does not fit the tensors: \(where_) has '\(have)' but not the " +
                                        "\(["query", "key", "value"][part]) weight of the same block (vmae \(n))")
                    }
                    let s = files.entry(src)!.shape
                    guard s == [rows, v.shape[1]] else { throw shapeError(src, s, n, [rows, v.shape[1]], files, configPath, mc) }
                    pieces.append((src, rows))
                }
            }
            copies.append((v, pieces))
            loadedByGroup[g, default: []].append(n)
        }
        // what may be missing: a whole decoder / encoder.norm / classifier head; never a piece of one
        for g in HFNames.Group.allCases {
            guard let miss = missingByGroup[g], !miss.isEmpty else { continue }
            let present = loadedByGroup[g] ?? []
            let firstMissing = miss[0]
            switch g {
            case .encoder:
                throw UserError("config does not fit the tensors: the model from \(configPath) needs \(firstMissing) " +
                                "(\(hint(for: HFNames.canonical(classifierName: firstMissing), mc))) but \(where_) has no tensor for it" +
                                (miss.count > 1 ? " (\(miss.count) such tensors: \(NameList.compact(miss, limit: 4)))" : ""))
            case .classifierHead where !present.isEmpty:
                if present.contains(where: { $0.hasPrefix("head.") }) && miss.contains(where: { $0.hasPrefix("fc_norm.") }) {
                    throw UserError("\(where_): this classifier has no fc_norm (Hugging Face use_mean_pooling=false: it classifies " +
                                    "the first token after the encoder norm); vmae's classifier averages the tokens through fc_norm. " +
                                    "Import it with --task pretrain and fine-tune from there")
                }
                fallthrough
            case .decoder where !present.isEmpty:
                throw UserError("config does not fit the tensors: \(where_) has part of the \(g.rawValue) but not \(NameList.compact(miss, limit: 4))")
            default:
                break
            }
            report.missing += miss
            switch g {
            case .encoderNorm:
                report.warnings.append("the source has no encoder norm" + (hf?.useMeanPooling == true ? " (Hugging Face builds none when use_mean_pooling is true)" : "") +
                                       "; vmae's pretraining model has one: encoder.norm starts at weight 1, bias 0, so reconstructions differ from the source's until it is trained")
            case .decoder:
                report.warnings.append("the source has no decoder: encoder_to_decoder, mask_token and decoder.* start from vmae's initialization (continued pretraining trains them)")
                if let hf, Int(Double(hf.decoderHiddenSize) * mc.mlp_ratio) != hf.decoderIntermediateSize {
                    report.notes.append("decoder_intermediate_size \(hf.decoderIntermediateSize) is ignored: vmae's new decoder uses mlp_ratio \(fmt(mc.mlp_ratio)) (\(Int(Double(mc.decoder_embed_dim) * mc.mlp_ratio)))")
                }
            case .classifierHead:
                report.warnings.append("the source has no classifier head: fc_norm and head (\(mc.num_classes) classes) start from vmae's initialization")
            case .encoder:
                break
            }
        }
        for (n, (v, pieces)) in copies.enumerated() {
            o.progress?(n, copies.count)
            var row = 0
            for (src, rows) in pieces {
                let t = try files.tensor(src)
                let width = v.value.count / max(v.shape.first ?? 1, 1)
                let n = pieces.count == 1 ? v.value.count : rows * width
                (v.value.data + row * width).update(from: t.data, count: n)
                row += rows
            }
        }
        for (n, _) in params where !report.missing.contains(n) { report.loaded.append(n) }

        // ---- what differs from the source by design ------------------------------------------
        if hf != nil && !originalNames {
            let eps = mc.layer_norm_eps
            if task == "pretrain" && !report.missing.contains("decoder.norm.weight") && eps != 1e-5 {
                report.notes.append("Hugging Face's decoder.norm uses eps 1e-5 whatever layer_norm_eps says; vmae uses layer_norm_eps \(fmt(eps)) " +
                                    "for every LayerNorm (the reconstruction differs by about 1e-5 relative or less)")
            }
            if task == "finetune" && !report.missing.contains("fc_norm.weight") && eps != 1e-5 {
                report.notes.append("Hugging Face's fc_norm uses eps 1e-5 whatever layer_norm_eps says; vmae uses layer_norm_eps \(fmt(eps)) " +
                                    "for every LayerNorm (logits differ by about 1e-5 relative or less)")
            }
        }
        report.parameters = params.reduce(0) { $0 + $1.1.count }

        // ---- the checkpoint ------------------------------------------------------------------
        let tensors = params.map { ($0.0, $0.1.value) }
        var ints: [String: [Int64]] = ["optimizer_step": [0], "seed": [Int64(cfg.seed)], "next_step": [0], "epoch_position": [0]]
        if task == "finetune" { ints["best_step"] = [-1] }
        var strings: [String: String] = ["imported_from": o.source]
        if let labels { strings["class_names"] = jsonString(labels) }
        let ck = Checkpoint(task: task, step: 0, epoch: 0, config: cfg.json(), model: tensors,
                            expAvg: tensors.map { ($0.0, Tensor(zeros: $0.1.shape)) },
                            expAvgSq: tensors.map { ($0.0, Tensor(zeros: $0.1.shape)) },
                            ints: ints, strings: strings)
        return (ck, report)
    }

    /// Imports and writes `o.out` (and `o.configOut`); returns the report.
    @discardableResult
    public static func run(_ o: ImportOptions) throws -> ImportReport {
        guard let out = o.out else { throw UserError("--out: where to write the checkpoint (CK.h5)") }
        let (ck, report) = try load(o)
        do { try ck.write(to: out) } catch { throw UserError("\(out): cannot write the checkpoint (\(error))") }
        if let co = o.configOut {
            do { try starterConfig(ck).write(toFile: co, atomically: true, encoding: .utf8) } catch {
                throw UserError("\(co): cannot write the config (\(error.localizedDescription))")
            }
        }
        return report
    }

    /// A config for training from the imported checkpoint: the task, the model section (every
    /// shape key explicit) and the data keys the model fixes; everything else at its default.
    public static func starterConfig(_ ck: Checkpoint) -> String {
        let full = (try? JSONSerialization.jsonObject(with: Data(ck.config.utf8))) as? [String: Any] ?? [:]
        var model = full["model"] as? [String: Any] ?? [:]
        if ck.task == "pretrain" { model["num_classes"] = nil }
        model["drop_path_rate"] = nil
        model["img_size"] = nil
        model["num_frames"] = nil
        let data = full["data"] as? [String: Any] ?? [:]
        var d: [String: Any] = [:]
        for k in ["num_frames", "input_size", "mean", "std"] { d[k] = data[k] }
        let tree: [String: Any] = ["task": ck.task, "model": model, "data": d]
        let out = try! JSONSerialization.data(withJSONObject: tree, options: [.prettyPrinted, .sortedKeys])
        return String(data: out, encoding: .utf8)! + "\n"
    }

    /// The weight files and the config file of a source.
    static func locate(_ o: ImportOptions) throws -> (WeightFiles, String) {
        let src = o.source
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: src, isDirectory: &isDir) else {
            throw UserError("\(src): no such file or folder")
        }
        func exists(_ p: String) -> Bool { FileManager.default.fileExists(atPath: p) }
        if isDir.boolValue {
            let dir = URL(fileURLWithPath: src)
            let cfg = o.config ?? dir.appendingPathComponent("config.json").path
            guard exists(cfg) else { throw UserError("\(src): no config.json in the folder (pass --config)") }
            let index = dir.appendingPathComponent("model.safetensors.index.json").path
            let single = dir.appendingPathComponent("model.safetensors").path
            if exists(single) { return (try WeightFiles(file: single), cfg) }
            if exists(index) { return (try WeightFiles(index: index), cfg) }
            if exists(dir.appendingPathComponent("pytorch_model.bin").path) || exists(dir.appendingPathComponent("pytorch_model.bin.index.json").path) {
                throw UserError("\(src): has pytorch_model.bin but no model.safetensors; vmae reads safetensors: in Python, " +
                                "model.save_pretrained(DIR) writes them (or use Tools/weights/pth_to_safetensors.py)")
            }
            throw UserError("\(src): no model.safetensors or model.safetensors.index.json in the folder")
        }
        let url = URL(fileURLWithPath: src)
        let dir = url.deletingLastPathComponent()
        if url.pathExtension == "pth" || url.pathExtension == "pt" || url.pathExtension == "bin" {
            throw UserError("\(src): a pickled PyTorch file; convert it first: python Tools/weights/pth_to_safetensors.py \(src) --out OUT.safetensors")
        }
        let files = url.lastPathComponent.hasSuffix(".index.json") ? try WeightFiles(index: src) : try WeightFiles(file: src)
        let sibling = url.deletingPathExtension().appendingPathExtension("json").path
        let candidates = [o.config, url.lastPathComponent.hasSuffix(".json") ? nil : sibling, dir.appendingPathComponent("config.json").path].compactMap { $0 }
        guard let cfg = candidates.first(where: exists) ?? o.config else {
            throw UserError("\(src): no config (pass --config: a Hugging Face config.json or a vmae config)")
        }
        guard exists(cfg) else { throw UserError("\(cfg): no such config file") }
        return (files, cfg)
    }

    /// image_mean / image_std of a preprocessor_config.json beside the model's config.
    static func preprocessorStats(_ configPath: String, channels: Int) -> ([Double], [Double])? {
        let p = URL(fileURLWithPath: configPath).deletingLastPathComponent().appendingPathComponent("preprocessor_config.json").path
        guard let d = FileManager.default.contents(atPath: p),
              let t = (try? JSONSerialization.jsonObject(with: d)) as? [String: Any],
              let mean = (t["image_mean"] as? [NSNumber])?.map(\.doubleValue),
              let std = (t["image_std"] as? [NSNumber])?.map(\.doubleValue),
              mean.count == channels, std.count == channels, std.allSatisfy({ $0 > 0 }) else { return nil }
        return (mean, std)
    }

    static func shapeError(_ src: String, _ have: [Int], _ native: String, _ want: [Int], _ files: WeightFiles,
                           _ configPath: String, _ mc: ModelConfig) -> UserError {
        UserError("config does not fit the tensors: '\(src)' is \(have) in \(files.file(of: src)) but vmae's \(native) " +
                  "needs \(want) from \(configPath) (\(hint(for: HFNames.canonical(classifierName: native), mc)))")
    }

    /// The config keys that decide a parameter's shape or existence.
    static func hint(for canonical: String, _ mc: ModelConfig) -> String {
        let enc = "hidden_size \(mc.encoder_embed_dim), num_hidden_layers \(mc.encoder_depth), intermediate_size \(Int(Double(mc.encoder_embed_dim) * mc.mlp_ratio)), qkv_bias \(mc.qkv_bias)"
        switch HFNames.group(canonical) {
        case .encoder where canonical.contains("patch_embed"):
            return "hidden_size \(mc.encoder_embed_dim), num_channels \(mc.in_chans), tubelet_size \(mc.tubelet_size), patch_size \(mc.patch_size)"
        case .encoder, .encoderNorm: return enc
        case .decoder:
            return "decoder_hidden_size \(mc.decoder_embed_dim), decoder_num_hidden_layers \(mc.decoder_depth), " +
                   "decoder intermediate \(Int(Double(mc.decoder_embed_dim) * mc.mlp_ratio)), patch_size \(mc.patch_size), tubelet_size \(mc.tubelet_size)"
        case .classifierHead: return "hidden_size \(mc.encoder_embed_dim), \(mc.num_classes) labels (id2label / num_labels / --num-classes)"
        }
    }

    static func describe(_ mc: ModelConfig, task: String) -> String {
        var s = "encoder \(mc.encoder_embed_dim) wide, \(mc.encoder_depth) blocks, \(mc.encoder_num_heads) heads, mlp_ratio \(fmt(mc.mlp_ratio)); "
        if task == "pretrain" {
            s += "decoder \(mc.decoder_embed_dim)/\(mc.decoder_depth)/\(mc.decoder_num_heads); "
        } else {
            s += "\(mc.num_classes) classes; "
        }
        s += "\(mc.num_frames)×\(mc.img_size)² frames, patch \(mc.patch_size), tubelet \(mc.tubelet_size), " +
             "layer_norm_eps \(fmt(mc.layer_norm_eps)), qkv_bias \(mc.qkv_bias)" + (task == "pretrain" ? ", normalize_target \(mc.normalize_target)" : "")
        return s
    }

    static func fmt(_ x: Double) -> String {
        if x == x.rounded() && abs(x) < 1e6 { return String(Int(x)) }
        return String(format: "%g", x)
    }
}
