import DataPipeline
import ExitStatus
import Foundation
import VideoMAE

/// One JSON file drives a run. Keys follow the original VideoMAE's argument names; every key
/// has a default (see `TrainConfig.defaults`), and the file only needs what differs.
public struct TrainConfig: Codable, Equatable {
    public struct Model: Codable, Equatable {
        public var preset: String?
        public var attention: String
        public var img_size: Int?              // default: data.input_size
        public var num_frames: Int?            // default: data.num_frames
        public var patch_size: Int
        public var tubelet_size: Int
        public var in_chans: Int
        public var encoder_embed_dim: Int?
        public var encoder_depth: Int?
        public var encoder_num_heads: Int?
        public var decoder_embed_dim: Int?
        public var decoder_depth: Int?
        public var decoder_num_heads: Int?
        public var mlp_ratio: Double
        public var qkv_bias: Bool
        public var layer_norm_eps: Double
        public var num_classes: Int?           // default: the number of classes in the data
        public var use_mean_pooling: Bool
        public var normalize_target: Bool
        public var drop_path_rate: Double
    }
    public struct Mask: Codable, Equatable {
        public var type: String
        public var ratio: Double
    }
    public struct DataSection: Codable, Equatable {
        public var train_list: String?
        public var val_list: String?
        public var root: String?
        public var num_frames: Int
        public var sampling_rate: Int
        public var input_size: Int
        public var mean: [Double]
        public var std: [Double]
        public var num_workers: Int
        public var sampling: String            // "dense" (original) | "uniform"
        public var decode_timeout_s: Double
        /// Fine-tuning: mirror training clips with p = 0.5 (the original; turn off for
        /// direction-sensitive classes such as Something-Something's).
        public var horizontal_flip: Bool
        /// Fine-tuning: the random resized crop's smallest area fraction (the original's 0.08).
        public var min_crop_area: Double
    }
    public struct Optim: Codable, Equatable {
        public var batch_size: Int
        public var epochs: Int
        public var max_steps: Int?
        public var lr: Double
        public var min_lr: Double
        public var warmup_epochs: Double
        public var warmup_steps: Int?
        public var weight_decay: Double
        public var weight_decay_end: Double?
        public var betas: [Double]
        public var eps: Double
        public var clip_grad: Double?
        public var layer_decay: Double
        public var label_smoothing: Double
    }
    public struct Checkpoint: Codable, Equatable {
        public var every_steps: Int
        public var keep_last: Int
        public var resume: String?
        public var init_from: String?
    }
    public struct Finetune: Codable, Equatable {
        public var freeze_encoder: Bool
        public var test_num_segment: Int
        public var test_num_crop: Int
        /// timm's Mixup as the original's fine-tuning uses it (mode "batch"): the Beta(α, α) of
        /// mixup and of cutmix (0 turns that one off), the chance a batch is mixed at all, and the
        /// chance of cutmix rather than mixup when both are on. Both 0, or mixup_prob 0: no mixing,
        /// hard labels and the plain smoothed cross-entropy.
        public var mixup: Double
        public var cutmix: Double
        public var mixup_prob: Double
        public var mixup_switch_prob: Double
        /// timm's RandomErasing of the original's fine-tuning (mode "pixel", one rectangle): the
        /// chance each training frame gets a rectangle of noise; 0 turns it off.
        public var reprob: Double
        /// timm's RandAugment spec of the original's fine-tuning ("rand-m7-n4-mstd0.5-inc1");
        /// "" or "none" turns it off.
        public var aa: String
        /// Repeated augmentation (the original's `num_sample`, 2): each training video gives this
        /// many differently augmented clips per batch; 1 turns it off.
        public var num_sample: Int
        /// The parsed `aa`; nil when off (or not parseable: `problems` names it).
        public var randAugment: RandAugment? { try? parsedRandAugment() }
        /// `aa` parsed: nil for "" or "none", else the spec or the reason it is not one.
        func parsedRandAugment() throws -> RandAugment? {
            aa.isEmpty || aa.lowercased() == "none" ? nil : try RandAugment(spec: aa)
        }
    }
    public struct Log: Codable, Equatable {
        public var every_steps: Int
    }

    public var task: String
    public var seed: Int
    public var output_dir: String
    public var model: Model
    public var mask: Mask
    public var data: DataSection
    public var optim: Optim
    public var checkpoint: Checkpoint
    public var finetune: Finetune
    public var log: Log

    /// The defaults of every key, per task (the original VideoMAE's pretraining and fine-tuning
    /// settings, scaled to a CPU).
    public static func defaults(task: String) -> [String: Any] {
        let pre = task != "finetune"
        return [
            "task": task,
            "seed": 0,
            "output_dir": pre ? "runs/pretrain" : "runs/finetune",
            "model": [
                "preset": "vit-small", "attention": "joint", "img_size": NSNull(), "num_frames": NSNull(),
                "patch_size": 16, "tubelet_size": 2, "in_chans": 3,
                "encoder_embed_dim": NSNull(), "encoder_depth": NSNull(), "encoder_num_heads": NSNull(),
                "decoder_embed_dim": NSNull(), "decoder_depth": NSNull(), "decoder_num_heads": NSNull(),
                "mlp_ratio": 4.0, "qkv_bias": true, "layer_norm_eps": 1e-6, "num_classes": NSNull(),
                "use_mean_pooling": true, "normalize_target": true, "drop_path_rate": pre ? 0.0 : 0.1,
            ] as [String: Any],
            "mask": ["type": "tube", "ratio": 0.9] as [String: Any],
            "data": [
                "train_list": NSNull(), "val_list": NSNull(), "root": NSNull(),
                "num_frames": 16, "sampling_rate": pre ? 4 : 4, "input_size": 224,
                "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "num_workers": 2,
                "sampling": "dense", "decode_timeout_s": 30.0, "horizontal_flip": true, "min_crop_area": 0.08,
            ] as [String: Any],
            "optim": [
                "batch_size": pre ? 8 : 8, "epochs": pre ? 800 : 100, "max_steps": NSNull(),
                "lr": pre ? 1.5e-4 : 1e-3, "min_lr": pre ? 1e-5 : 1e-6, "warmup_epochs": pre ? 40.0 : 5.0,
                "warmup_steps": NSNull(), "weight_decay": 0.05, "weight_decay_end": NSNull(),
                "betas": pre ? [0.9, 0.95] : [0.9, 0.999], "eps": 1e-8, "clip_grad": NSNull(),
                "layer_decay": 0.75, "label_smoothing": 0.1,
            ] as [String: Any],
            "checkpoint": ["every_steps": 100, "keep_last": 3, "resume": NSNull(), "init_from": NSNull()] as [String: Any],
            "finetune": ["freeze_encoder": false, "test_num_segment": 2, "test_num_crop": 3,
                         "mixup": 0.8, "cutmix": 1.0, "mixup_prob": 1.0, "mixup_switch_prob": 0.5,
                         "reprob": 0.25, "aa": "rand-m7-n4-mstd0.5-inc1", "num_sample": 2] as [String: Any],
            "log": ["every_steps": 10] as [String: Any],
        ]
    }

    /// The JSON type a nullable key takes when it is not null.
    static let nullableTypes: [String: JSONKind] = [
        "model.preset": .string, "model.img_size": .int, "model.num_frames": .int,
        "model.encoder_embed_dim": .int, "model.encoder_depth": .int, "model.encoder_num_heads": .int,
        "model.decoder_embed_dim": .int, "model.decoder_depth": .int, "model.decoder_num_heads": .int,
        "model.num_classes": .int,
        "data.train_list": .string, "data.val_list": .string, "data.root": .string,
        "optim.max_steps": .int, "optim.warmup_steps": .int, "optim.weight_decay_end": .number, "optim.clip_grad": .number,
        "checkpoint.resume": .string, "checkpoint.init_from": .string,
    ]
}

public enum JSONKind: String {
    case int = "an integer", number = "a number", string = "a string", bool = "true or false"
    case array = "a list", object = "an object", null = "null"

    public static func of(_ v: Any) -> JSONKind {
        if v is NSNull { return .null }
        if let n = v as? NSNumber {
            switch String(cString: n.objCType) {
            case "c", "B": return .bool
            case "f", "d": return .number
            default: return .int
            }
        }
        if v is String { return .string }
        if v is [Any] { return .array }
        if v is [String: Any] { return .object }
        return .null
    }

    public func accepts(_ other: JSONKind) -> Bool { self == other || (self == .number && other == .int) }
}

extension TrainConfig {
    /// Reads a config file, applies `--set key=value` overrides, checks every key, type and
    /// value, and fills the defaults. Any problem is a `UserError` naming the key's path.
    public static func load(path: String?, overrides: [String] = []) throws -> TrainConfig {
        var tree: [String: Any] = [:]
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw UserError("\(path): cannot read the config file (missing or unreadable)")
            }
            do {
                guard let t = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [String: Any] else {
                    throw UserError("\(path): the config must be a JSON object")
                }
                tree = t
            } catch let e as UserError { throw e } catch {
                throw UserError("\(path): not valid JSON (\(jsonErrorSummary(error)))")
            }
        }
        for o in overrides { try applyOverride(o, to: &tree) }
        return try resolve(tree, source: path ?? "config")
    }

    /// `a.b.c=value`: value read as JSON when it parses, else as a string.
    static func applyOverride(_ o: String, to tree: inout [String: Any]) throws {
        guard let eq = o.firstIndex(of: "="), eq != o.startIndex else {
            throw UserError("--set \(o): expected key=value, e.g. --set optim.lr=3e-4")
        }
        let key = String(o[..<eq]), raw = String(o[o.index(after: eq)...])
        let value: Any = (try? JSONSerialization.jsonObject(with: Data(raw.utf8), options: [.fragmentsAllowed])) ?? raw
        let parts = key.split(separator: ".").map(String.init)
        func set(_ node: inout [String: Any], _ i: Int) throws {
            if i == parts.count - 1 { node[parts[i]] = value; return }
            var child = node[parts[i]] as? [String: Any] ?? [:]
            if node[parts[i]] != nil && !(node[parts[i]] is [String: Any]) {
                throw UserError("--set \(key): '\(parts[0...i].joined(separator: "."))' is not a section")
            }
            try set(&child, i + 1)
            node[parts[i]] = child
        }
        try set(&tree, 0)
    }

    public static func resolve(_ user: [String: Any], source: String) throws -> TrainConfig {
        let task = (user["task"] as? String) ?? "pretrain"
        guard task == "pretrain" || task == "finetune" else {
            throw UserError("\(source): task: must be \"pretrain\" or \"finetune\", got \(describe(user["task"]!))")
        }
        let defaults = TrainConfig.defaults(task: task)
        let merged = try merge(user, over: defaults, path: "", source: source)
        let data = try JSONSerialization.data(withJSONObject: merged)
        var cfg: TrainConfig
        do { cfg = try JSONDecoder().decode(TrainConfig.self, from: data) } catch {
            throw UserError("\(source): \(decodingSummary(error))")
        }
        try cfg.validate(source: source)
        return cfg
    }

    /// Lays the user's keys over the defaults, refusing unknown keys and wrong types.
    static func merge(_ user: [String: Any], over defaults: [String: Any], path: String, source: String) throws -> [String: Any] {
        var out = defaults
        for (k, v) in user.sorted(by: { $0.key < $1.key }) {
            let full = path.isEmpty ? k : path + "." + k
            guard let d = defaults[k] else {
                var msg = "\(source): unknown key '\(full)'"
                if let s = closest(k, in: Array(defaults.keys)) { msg += " (did you mean '\(path.isEmpty ? s : path + "." + s)'?)" }
                throw UserError(msg)
            }
            if let dd = d as? [String: Any] {
                guard let uv = v as? [String: Any] else {
                    throw UserError("\(source): \(full): must be an object (a section), got \(describe(v))")
                }
                out[k] = try merge(uv, over: dd, path: full, source: source)
                continue
            }
            let want = JSONKind.of(d) == .null ? (nullableTypes[full] ?? .string) : JSONKind.of(d)
            let got = JSONKind.of(v)
            let nullable = nullableTypes[full] != nil
            if got == .null {
                guard nullable else { throw UserError("\(source): \(full): must be \(want.rawValue), got null") }
            } else if !want.accepts(got) {
                throw UserError("\(source): \(full): must be \(want.rawValue), got \(describe(v))")
            }
            if want == .array, let arr = v as? [Any], arr.contains(where: { !JSONKind.number.accepts(JSONKind.of($0)) }) {
                throw UserError("\(source): \(full): must be a list of numbers, got \(describe(v))")
            }
            out[k] = v
        }
        return out
    }

    public static func describe(_ v: Any) -> String {
        if let s = v as? String { return "\"\(s)\"" }
        if let d = try? JSONSerialization.data(withJSONObject: v, options: [.fragmentsAllowed]), let s = String(data: d, encoding: .utf8) {
            return s.count > 60 ? String(s.prefix(57)) + "..." : s
        }
        return "\(v)"
    }

    /// The known key nearest to a misspelled one (edit distance ≤ 3 or a shared prefix).
    static func closest(_ k: String, in keys: [String]) -> String? {
        func dist(_ a: String, _ b: String) -> Int {
            let a = Array(a), b = Array(b)
            if a.isEmpty { return b.count }
            if b.isEmpty { return a.count }
            var prev = Array(0...b.count), cur = prev
            for i in 1...a.count {
                cur[0] = i
                for j in 1...b.count { cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)) }
                prev = cur
            }
            return prev[b.count]
        }
        let scored: [(String, Int)] = keys.map { ($0, dist(k.lowercased(), $0.lowercased())) }
        let best = scored.min { (a: (String, Int), b: (String, Int)) -> Bool in a.1 < b.1 || (a.1 == b.1 && a.0 < b.0) }
        guard let (name, d) = best, d <= max(3, k.count / 3) else { return nil }
        return name
    }

    static func jsonErrorSummary(_ e: Error) -> String {
        let ns = e as NSError
        if let d = ns.userInfo["NSDebugDescription"] as? String { return d }
        return ns.localizedDescription
    }

    static func decodingSummary(_ e: Error) -> String {
        if case let DecodingError.typeMismatch(_, ctx) = e {
            return ctx.codingPath.map(\.stringValue).joined(separator: ".") + ": wrong type"
        }
        if case let DecodingError.valueNotFound(_, ctx) = e {
            return ctx.codingPath.map(\.stringValue).joined(separator: ".") + ": missing value"
        }
        if case let DecodingError.dataCorrupted(ctx) = e {
            return ctx.codingPath.map(\.stringValue).joined(separator: ".") + ": " + ctx.debugDescription
        }
        return "\(e)"
    }

    /// Impossible values, each named by its key.
    func validate(source: String) throws {
        var p: [String] = []
        func need(_ ok: Bool, _ msg: String) { if !ok { p.append(msg) } }
        need(mask.type == "tube" || mask.type == "random", "mask.type: must be \"tube\" or \"random\", got \"\(mask.type)\"")
        need(mask.ratio >= 0 && mask.ratio < 1, "mask.ratio: must be in [0, 1), got \(mask.ratio)")
        need(model.attention == "joint" || model.attention == "divided", "model.attention: must be \"joint\" or \"divided\", got \"\(model.attention)\"")
        if let pr = model.preset { need(ModelConfig.presets[pr] != nil, "model.preset: unknown preset \"\(pr)\" (known: \(ModelConfig.presets.keys.sorted().joined(separator: ", ")))") }
        if let f = model.num_frames { need(f == data.num_frames, "model.num_frames: \(f) differs from data.num_frames \(data.num_frames)") }
        if let s = model.img_size { need(s == data.input_size, "model.img_size: \(s) differs from data.input_size \(data.input_size)") }
        need(data.num_frames > 0, "data.num_frames: must be positive, got \(data.num_frames)")
        need(data.input_size > 0, "data.input_size: must be positive, got \(data.input_size)")
        need(data.sampling_rate > 0, "data.sampling_rate: must be positive, got \(data.sampling_rate)")
        need(data.num_workers >= 0, "data.num_workers: must not be negative, got \(data.num_workers)")
        need(data.mean.count == model.in_chans, "data.mean: needs \(model.in_chans) values (one per channel), got \(data.mean.count)")
        need(data.std.count == model.in_chans, "data.std: needs \(model.in_chans) values (one per channel), got \(data.std.count)")
        need(data.std.allSatisfy { $0 > 0 }, "data.std: every value must be positive")
        need(data.sampling == "dense" || data.sampling == "uniform", "data.sampling: must be \"dense\" or \"uniform\", got \"\(data.sampling)\"")
        need(data.decode_timeout_s > 0, "data.decode_timeout_s: must be positive")
        need(data.min_crop_area > 0 && data.min_crop_area <= 1, "data.min_crop_area: must be in (0, 1], got \(data.min_crop_area)")
        need(optim.batch_size > 0, "optim.batch_size: must be positive, got \(optim.batch_size)")
        need(optim.epochs > 0, "optim.epochs: must be positive, got \(optim.epochs)")
        if let m = optim.max_steps { need(m > 0, "optim.max_steps: must be positive, got \(m)") }
        need(optim.lr > 0, "optim.lr: must be positive, got \(optim.lr)")
        need(optim.min_lr >= 0 && optim.min_lr <= optim.lr, "optim.min_lr: must be in [0, lr], got \(optim.min_lr)")
        need(optim.warmup_epochs >= 0, "optim.warmup_epochs: must not be negative")
        if let w = optim.warmup_steps { need(w >= 0, "optim.warmup_steps: must not be negative, got \(w)") }
        need(optim.weight_decay >= 0, "optim.weight_decay: must not be negative")
        need(optim.betas.count == 2 && optim.betas.allSatisfy { $0 >= 0 && $0 < 1 }, "optim.betas: must be two numbers in [0, 1), got \(optim.betas)")
        need(optim.eps > 0, "optim.eps: must be positive")
        if let c = optim.clip_grad { need(c > 0, "optim.clip_grad: must be positive or null, got \(c)") }
        need(optim.layer_decay > 0 && optim.layer_decay <= 1, "optim.layer_decay: must be in (0, 1], got \(optim.layer_decay)")
        need(optim.label_smoothing >= 0 && optim.label_smoothing < 1, "optim.label_smoothing: must be in [0, 1), got \(optim.label_smoothing)")
        need(checkpoint.every_steps > 0, "checkpoint.every_steps: must be positive, got \(checkpoint.every_steps)")
        need(checkpoint.keep_last > 0, "checkpoint.keep_last: must be at least 1, got \(checkpoint.keep_last)")
        need(finetune.test_num_segment > 0, "finetune.test_num_segment: must be positive")
        need(finetune.test_num_crop > 0, "finetune.test_num_crop: must be positive")
        need(finetune.mixup >= 0, "finetune.mixup: must not be negative (the Beta(α, α) of mixup; 0 turns mixup off), got \(finetune.mixup)")
        need(finetune.cutmix >= 0, "finetune.cutmix: must not be negative (the Beta(α, α) of cutmix; 0 turns cutmix off), got \(finetune.cutmix)")
        need(finetune.mixup_prob >= 0 && finetune.mixup_prob <= 1, "finetune.mixup_prob: must be in [0, 1], got \(finetune.mixup_prob)")
        need(finetune.mixup_switch_prob >= 0 && finetune.mixup_switch_prob <= 1,
             "finetune.mixup_switch_prob: must be in [0, 1], got \(finetune.mixup_switch_prob)")
        do { _ = try finetune.parsedRandAugment() } catch { p.append("finetune.aa: \(error)") }
        need(finetune.num_sample >= 1 && finetune.num_sample <= 16, "finetune.num_sample: must be in 1...16 (clips per video and batch), got \(finetune.num_sample)")
        need(finetune.reprob >= 0 && finetune.reprob <= 1, "finetune.reprob: must be in [0, 1] (the chance a frame is erased), got \(finetune.reprob)")
        need(log.every_steps > 0, "log.every_steps: must be positive, got \(log.every_steps)")
        if p.isEmpty {
            let mc = modelConfig(numClasses: model.num_classes ?? 2)
            // img_size and num_frames come from data.* unless set: name the key the user wrote
            p += mc.problems().map { msg in
                if model.img_size == nil, msg.hasPrefix("model.img_size:") { return "data.input_size:" + msg.dropFirst(15) }
                if model.num_frames == nil, msg.hasPrefix("model.num_frames:") { return "data.num_frames:" + msg.dropFirst(17) }
                return msg
            }
            if model.attention == "divided" && mask.type == "random" && task == "pretrain" {
                p.append("model.attention: \"divided\" needs tube masking (mask.type \"tube\"): random masking leaves no regular grid")
            }
        }
        if let first = p.first { throw UserError("\(source): \(first)") }
    }

    /// The model's shape: the preset, then any explicit key, then the data's frames and size.
    public func modelConfig(numClasses: Int) -> ModelConfig {
        var c = ModelConfig()
        if let pr = model.preset, let p = ModelConfig.presets[pr] { c.applyPreset(p) }
        c.img_size = model.img_size ?? data.input_size
        c.num_frames = model.num_frames ?? data.num_frames
        c.patch_size = model.patch_size
        c.tubelet_size = model.tubelet_size
        c.in_chans = model.in_chans
        if let v = model.encoder_embed_dim { c.encoder_embed_dim = v }
        if let v = model.encoder_depth { c.encoder_depth = v }
        if let v = model.encoder_num_heads { c.encoder_num_heads = v }
        if let v = model.decoder_embed_dim { c.decoder_embed_dim = v }
        if let v = model.decoder_depth { c.decoder_depth = v }
        if let v = model.decoder_num_heads { c.decoder_num_heads = v }
        c.mlp_ratio = model.mlp_ratio
        c.qkv_bias = model.qkv_bias
        c.layer_norm_eps = model.layer_norm_eps
        c.num_classes = model.num_classes ?? numClasses
        c.use_mean_pooling = model.use_mean_pooling
        c.normalize_target = model.normalize_target
        c.drop_path_rate = model.drop_path_rate
        c.attention = model.attention
        return c
    }

    /// The resolved config as pretty, key-sorted JSON (printed at start, saved with the run).
    /// Every key is written, null ones as null, so that reading it back gives the same config.
    public func json() -> String {
        let data = try! JSONEncoder().encode(self)
        var tree = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        func fillNulls(_ node: inout [String: Any], _ defaults: [String: Any]) {
            for (k, d) in defaults {
                if let dd = d as? [String: Any] {
                    var child = node[k] as? [String: Any] ?? [:]
                    fillNulls(&child, dd)
                    node[k] = child
                } else if node[k] == nil {
                    node[k] = NSNull()
                }
            }
        }
        fillNulls(&tree, TrainConfig.defaults(task: task))
        let out = try! JSONSerialization.data(withJSONObject: tree, options: [.prettyPrinted, .sortedKeys])
        return String(data: out, encoding: .utf8)!
    }
}
