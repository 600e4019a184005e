import DataPipeline
import ExitStatus
import Foundation
import TensorCore
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
        /// VideoMAE V2's running-cell decoder masking: the share of tokens the decoder does not
        /// reconstruct (0 = off; V2 uses 0.5). nil in configs written before the key existed.
        public var decoder_ratio: Double?
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
        /// MiB of decoded frames kept in memory (0: off), so that a small dataset is decoded once,
        /// not once per epoch (`ClipOptions.cacheMiB`); nil in configs written before the key existed.
        public var cache_mib: Int?
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
        /// GEMM precision of the linear layers and attention: "fp32" or "bf16" (mixed precision); nil in configs
        /// written before the key existed, read as "fp32".
        public var precision: String?
    }

    /// `optim.precision` as the GEMM precision (fp32 when absent; `validate` refuses other words).
    public var gemmPrecision: Precision { Precision(rawValue: optim.precision ?? "fp32") ?? .fp32 }
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
        /// TensorBoard event files in output_dir/tb/ (rank 0).
        public var tensorboard: Bool
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
            "mask": ["type": "tube", "ratio": 0.9, "decoder_ratio": 0.0] as [String: Any],
            "data": [
                "train_list": NSNull(), "val_list": NSNull(), "root": NSNull(),
                "num_frames": 16, "sampling_rate": pre ? 4 : 4, "input_size": 224,
                "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "num_workers": 2,
                "sampling": "dense", "decode_timeout_s": 30.0, "horizontal_flip": true, "min_crop_area": 0.08,
                "cache_mib": 0,
            ] as [String: Any],
            "optim": [
                "batch_size": pre ? 8 : 8, "epochs": pre ? 800 : 100, "max_steps": NSNull(),
                "lr": pre ? 1.5e-4 : 1e-3, "min_lr": pre ? 1e-5 : 1e-6, "warmup_epochs": pre ? 40.0 : 5.0,
                "warmup_steps": NSNull(), "weight_decay": 0.05, "weight_decay_end": NSNull(),
                "betas": pre ? [0.9, 0.95] : [0.9, 0.999], "eps": 1e-8, "clip_grad": NSNull(),
                "layer_decay": 0.75, "label_smoothing": 0.1, "precision": "fp32",
            ] as [String: Any],
            "checkpoint": ["every_steps": 100, "keep_last": 3, "resume": NSNull(), "init_from": NSNull()] as [String: Any],
            "finetune": ["freeze_encoder": false, "test_num_segment": 2, "test_num_crop": 3,
                         "mixup": 0.8, "cutmix": 1.0, "mixup_prob": 1.0, "mixup_switch_prob": 0.5,
                         "reprob": 0.25, "aa": "rand-m7-n4-mstd0.5-inc1", "num_sample": 2] as [String: Any],
            "log": ["every_steps": 10, "tensorboard": true] as [String: Any],
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

extension TrainConfig {
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
