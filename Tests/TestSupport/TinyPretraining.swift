import RunConfig
import VideoMAE

/// The tiny pretraining setup of the reconstruction and checkpoint-picture tests: encoder 32
/// wide, depth 2; patch 8, tubelet 2; 4 frames of 32 px (2 × 16 = 32 tokens), in the test's folder.
extension PictureFolderTestCase {
    public func tinyConfig(_ sets: [String] = []) throws -> TrainConfig {
        try TrainConfig.load(path: nil, overrides: [
            "output_dir=\(path("run"))", "seed=3",
            "model.encoder_embed_dim=32", "model.encoder_depth=2", "model.encoder_num_heads=2",
            "model.decoder_embed_dim=16", "model.decoder_depth=1", "model.decoder_num_heads=2",
            "model.patch_size=8", "model.tubelet_size=2", "mask.ratio=0.75",
            "data.num_frames=4", "data.input_size=32", "data.sampling_rate=2", "data.num_workers=0",
            "data.train_list=random:4", "optim.batch_size=2", "optim.max_steps=4", "optim.lr=1e-3",
            "optim.warmup_steps=1", "checkpoint.every_steps=2", "log.every_steps=1",
        ] + sets)
    }

    public func tinyModel(normalizeTarget: Bool = true) -> PretrainModel {
        var c = ModelConfig()
        (c.img_size, c.num_frames, c.patch_size, c.tubelet_size) = (32, 4, 8, 2)
        c.applyPreset((32, 2, 2, 16, 1, 2))
        c.normalize_target = normalizeTarget
        let m = PretrainModel(c)
        m.initialize(seed: 7)
        return m
    }
}
