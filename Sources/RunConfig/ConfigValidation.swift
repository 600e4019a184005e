import DataPipeline
import ExitStatus
import Foundation
import TensorCore
import VideoMAE

// The config validation: impossible values are refused before any work starts, each named
// by its key.
extension TrainConfig {
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
        need((data.cache_mib ?? 0) >= 0 && (data.cache_mib ?? 0) <= 1 << 24, "data.cache_mib: must be in 0...16777216 (MiB), got \(data.cache_mib ?? 0)")
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
        if let pr = optim.precision, Precision(rawValue: pr) == nil {
            need(false, "optim.precision: must be \"fp32\" or \"bf16\", got \"\(pr)\"")
        } else if gemmPrecision == .bf16, let why = CPUFeatures.bf16Refusal(CPUFeatures.flags) {
            need(false, "optim.precision: \(why)")
        }
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
            if let r = mask.decoder_ratio, r != 0 {
                let side = mc.img_size / mc.patch_size
                if let why = RunningCellMask.problem(ratio: r, rows: side, cols: side) { p.append("mask.decoder_ratio: \(why)") }
            }
            if model.attention == "divided" && mask.type == "random" && task == "pretrain" {
                p.append("model.attention: \"divided\" needs tube masking (mask.type \"tube\"): random masking leaves no regular grid")
            }
        }
        if let first = p.first { throw UserError("\(source): \(first)") }
    }
}
