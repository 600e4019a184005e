import Checkpoint
import Foundation
import NN
import RunConfig
import VideoMAE

/// A tiny model for fast tests: 32 wide, 2 blocks, 4 frames of 32 px, patch 8.
public func ftModelConfig(classes: Int = 3, patch: Int = 8) -> ModelConfig {
    var c = ModelConfig()
    c.img_size = 32
    c.num_frames = 4
    c.patch_size = patch
    c.tubelet_size = 2
    c.encoder_embed_dim = 32
    c.encoder_depth = 2
    c.encoder_num_heads = 2
    c.decoder_embed_dim = 16
    c.decoder_depth = 1
    c.decoder_num_heads = 1
    c.num_classes = classes
    return c
}

/// The config keys of `ftModelConfig` for a run.
public func ftRunConfig(task: String, dir: String, extra: [String: Any] = [:]) throws -> TrainConfig {
    var tree: [String: Any] = [
        "task": task, "seed": 3, "output_dir": dir,
        "model": ["preset": NSNull(), "encoder_embed_dim": 32, "encoder_depth": 2, "encoder_num_heads": 2,
                  "decoder_embed_dim": 16, "decoder_depth": 1, "decoder_num_heads": 1, "patch_size": 8] as [String: Any],
        "data": ["train_list": "random:8", "num_frames": 4, "sampling_rate": 1, "input_size": 32, "num_workers": 0] as [String: Any],
        "optim": ["batch_size": 4, "max_steps": 2, "warmup_steps": 0] as [String: Any],
        "checkpoint": ["every_steps": 100, "keep_last": 2] as [String: Any],
        "log": ["every_steps": 1],
    ]
    for (k, v) in extra {
        if let section = v as? [String: Any], var base = tree[k] as? [String: Any] {
            for (kk, vv) in section { base[kk] = vv }
            tree[k] = base
        } else {
            tree[k] = v
        }
    }
    return try TrainConfig.resolve(tree, source: "test")
}

public func ftTempDir(_ tag: String) throws -> String {
    let d = NSTemporaryDirectory() + "vmae-\(tag)-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

/// Writes a pretraining checkpoint of a freshly initialized tiny model.
public func ftWritePretrainCheckpoint(_ mc: ModelConfig, to path: String, seed: UInt64 = 1, task: String = "pretrain") throws -> PretrainModel {
    let m = PretrainModel(mc)
    m.initialize(seed: seed)
    // make LayerNorm weights distinguishable from their init too
    for (n, p) in m.namedParameters() where n.hasSuffix("norm1.weight") { p.value.fill(0.5) }
    try Checkpoint(task: task, step: 7, epoch: 1, config: "{}", model: ModelState.tensors(of: m)).write(to: path)
    return m
}
