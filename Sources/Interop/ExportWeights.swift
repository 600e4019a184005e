import Checkpoint
import ExitStatus
import Foundation
import NN
import RunConfig
import TensorCore
import VideoMAE

/// `vmae export CK.h5 --out DIR`: a vmae checkpoint → a Hugging Face model folder
/// (config.json, model.safetensors, preprocessor_config.json) that
/// `VideoMAEForPreTraining.from_pretrained(DIR)` (task pretrain) or
/// `VideoMAEForVideoClassification.from_pretrained(DIR)` (task finetune) loads with every
/// weight used and none missing.
public enum WeightExport {
    public struct Result {
        public var architecture = ""
        public var tensors = 0
        public var parameters = 0
        public var lines: [String] = []
    }

    @discardableResult
    public static func run(checkpoint path: String, out dir: String) throws -> Result {
        let ck = try readCheckpoint(path)
        let source = "\(path) (its config attribute)"
        guard let tree = (try? JSONSerialization.jsonObject(with: Data(ck.config.utf8))) as? [String: Any] else {
            throw UserError("\(source): not a JSON object")
        }
        let cfg = try TrainConfig.resolve(tree, source: source)
        guard cfg.model.attention == "joint" else {
            throw UserError("\(path): model.attention \"\(cfg.model.attention)\": transformers' VideoMAE has joint space-time attention only; this checkpoint cannot be exported")
        }
        guard ck.task == "pretrain" || ck.task == "finetune" else {
            throw UserError("\(path): task \"\(ck.task)\" cannot be exported (pretrain or finetune)")
        }
        let pretrain = ck.task == "pretrain"
        let have = Dictionary(ck.model, uniquingKeysWith: { a, _ in a })
        var labels: [String]? = storedClassNames(ck)
        var numClasses = labels?.count ?? 1
        if !pretrain {
            guard let h = have["head.weight"], h.shape.count == 2 else { throw UserError("\(path): a finetune checkpoint without head.weight") }
            numClasses = h.shape[0]
            if labels?.count != numClasses { labels = (0..<numClasses).map { "LABEL_\($0)" } }
        }
        let mc = cfg.modelConfig(numClasses: numClasses)
        let module: Module = pretrain ? PretrainModel(mc) : Classifier(mc)

        // every parameter of the model, under its Hugging Face names (qkv split into q, k, v)
        var out: [(String, Tensor)] = []
        var used = Set<String>()
        for (n, p) in module.namedParameters() {
            guard let t = have[n] else { throw UserError("\(path): no tensor '\(n)', which the model from its config has") }
            guard t.shape == p.shape else {
                throw UserError("\(path): tensor '\(n)' is \(t.shape) but the model from its config needs \(p.shape)")
            }
            used.insert(n)
            let canon = pretrain ? n : HFNames.canonical(classifierName: n)
            guard let names = HFNames.hf(canon) else { throw UserError("\(path): no Hugging Face name for '\(n)'") }
            if names.count == 1 {
                out.append((names[0].name, t))
            } else {
                let rows = t.shape[0] / 3, width = t.shape[1]
                for (hfName, part) in names {
                    let piece = Tensor(uninitialized: [rows, width])
                    piece.data.update(from: t.data + part! * rows * width, count: rows * width)
                    out.append((hfName, piece))
                }
            }
        }
        out.sort { $0.0 < $1.0 }
        let extra = ck.model.map(\.0).filter { !used.contains($0) }

        // config.json: transformers' VideoMAEConfig keys
        let architecture = pretrain ? "VideoMAEForPreTraining" : "VideoMAEForVideoClassification"
        var hf: [String: Any] = [
            "architectures": [architecture], "model_type": "videomae",
            "image_size": mc.img_size, "patch_size": mc.patch_size, "num_channels": mc.in_chans,
            "num_frames": mc.num_frames, "tubelet_size": mc.tubelet_size,
            "hidden_size": mc.encoder_embed_dim, "num_hidden_layers": mc.encoder_depth,
            "num_attention_heads": mc.encoder_num_heads, "intermediate_size": Int(Double(mc.encoder_embed_dim) * mc.mlp_ratio),
            "hidden_act": "gelu", "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
            "initializer_range": 0.02, "layer_norm_eps": mc.layer_norm_eps,
            "qkv_bias": mc.qkv_bias, "qv_bias": mc.qkv_bias,
            // pretraining: the encoder norm exists (HF builds videomae.layernorm only without mean
            // pooling); fine-tuning: mean over tokens → fc_norm → classifier, no encoder norm
            "use_mean_pooling": !pretrain,
            "decoder_hidden_size": mc.decoder_embed_dim, "decoder_num_hidden_layers": mc.decoder_depth,
            "decoder_num_attention_heads": mc.decoder_num_heads,
            "decoder_intermediate_size": Int(Double(mc.decoder_embed_dim) * mc.mlp_ratio),
            "norm_pix_loss": mc.normalize_target, "dtype": "float32",
        ]
        if let labels, !pretrain || storedClassNames(ck) != nil {
            hf["id2label"] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0.offset), $0.element) })
            hf["label2id"] = Dictionary(labels.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        }
        if !pretrain { hf["problem_type"] = "single_label_classification" }
        // the input pipeline transformers' VideoMAEImageProcessor would need for this model
        let pre: [String: Any] = [
            "image_processor_type": "VideoMAEImageProcessor",
            "do_resize": true, "size": ["shortest_edge": mc.img_size], "resample": 2,
            "do_center_crop": true, "crop_size": ["height": mc.img_size, "width": mc.img_size],
            "do_rescale": true, "rescale_factor": 1.0 / 255.0,
            "do_normalize": true, "image_mean": cfg.data.mean, "image_std": cfg.data.std,
        ]

        // ---- write ---------------------------------------------------------------------------
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), !isDir.boolValue {
            throw UserError("--out \(dir): is a file; export writes a folder")
        }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw UserError("--out \(dir): cannot create the folder (\(error.localizedDescription))")
        }
        let d = URL(fileURLWithPath: dir)
        if FileManager.default.fileExists(atPath: d.appendingPathComponent("model.safetensors.index.json").path) {
            throw UserError("--out \(dir): holds a sharded model (model.safetensors.index.json), which would shadow the export; choose an empty folder")
        }
        do {
            try SafetensorsWriter.write(out, metadata: ["format": "pt", "vmae_checkpoint": URL(fileURLWithPath: path).lastPathComponent,
                                                         "vmae_step": String(ck.step)],
                                        to: d.appendingPathComponent("model.safetensors").path)
            for (name, obj) in [("config.json", hf), ("preprocessor_config.json", pre)] {
                var json = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
                json.append(UInt8(ascii: "\n"))
                try SafetensorsWriter.writeAtomically(json, to: d.appendingPathComponent(name).path)
            }
        } catch let e as SafetensorsError { throw UserError(e.description) }

        var r = Result()
        r.architecture = architecture
        r.tensors = out.count
        r.parameters = out.reduce(0) { $0 + $1.1.count }
        r.lines = ["export \(path) (task \(ck.task), step \(ck.step)) → \(dir)",
                   "  config.json: \(architecture), \(WeightImport.describe(mc, task: ck.task))",
                   "  model.safetensors: \(out.count) tensors, \(r.parameters) parameters, float32; preprocessor_config.json: mean \(cfg.data.mean), std \(cfg.data.std)"]
        if !extra.isEmpty { r.lines.append("  left out (not parameters of the \(ck.task) model): \(NameList.compact(extra))") }
        if mc.layer_norm_eps != 1e-5 {
            r.lines.append("  note: Hugging Face builds \(pretrain ? "decoder.norm" : "fc_norm") with eps 1e-5 whatever layer_norm_eps (\(WeightImport.fmt(mc.layer_norm_eps))) says: its outputs differ from vmae's by about 1e-5 relative or less")
        }
        if mc.drop_path_rate > 0 {
            r.lines.append("  note: drop_path_rate \(WeightImport.fmt(mc.drop_path_rate)) is not carried over (transformers' VideoMAE has no stochastic depth)")
        }
        r.lines.append("  load: from transformers import \(architecture); \(architecture).from_pretrained(\"\(dir)\")")
        return r
    }
}

/// `vmae export CK.h5 --out DIR`: writes the folder and prints what was written.
public func runExport(checkpoint: String, out: String) throws {
    let r = try WeightExport.run(checkpoint: checkpoint, out: out)
    for l in r.lines { print(l) }
}
