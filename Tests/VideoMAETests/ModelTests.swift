import XCTest
import Autodiff
import NN
import TensorCore
import VideoMAE

final class ModelTests: XCTestCase {
    func tiny(_ f: (inout ModelConfig) -> Void = { _ in }) -> ModelConfig {
        var c = ModelConfig()
        c.img_size = 32; c.num_frames = 4; c.patch_size = 8; c.tubelet_size = 2
        c.encoder_embed_dim = 24; c.encoder_depth = 2; c.encoder_num_heads = 2
        c.decoder_embed_dim = 16; c.decoder_depth = 1; c.decoder_num_heads = 2
        c.num_classes = 3
        f(&c)
        return c
    }

    func clip(_ c: ModelConfig, batch: Int, seed: UInt64 = 1) -> Tensor {
        var rng = RNG(seed: seed)
        let x = Tensor(uninitialized: [batch, c.num_frames, c.in_chans, c.img_size, c.img_size])
        rng.fillNormal(x)
        return x
    }

    /// The encoder runs on the visible tokens only: the count entering its blocks is the
    /// visible count, not N.
    func testEncoderSeesOnlyVisibleTokens() {
        let c = tiny()
        let model = PretrainModel(c)
        model.initialize(seed: 1)
        for ratio in [0.5, 0.75, 0.9] {
            let gen = MaskGenerator(.tube, ratio: ratio, config: c)
            var rng = RNG(seed: 2)
            let mask = gen.batch(count: 2, rng: &rng)
            _ = Tape.noGrad { model.loss(clip(c, batch: 2), mask: mask, .inference()) }
            XCTAssertEqual(model.encoder.lastTokenCount, mask.visibleCount)
            XCTAssertEqual(mask.visibleCount, c.tokens - gen.maskedCount)
            XCTAssertLessThan(model.encoder.lastTokenCount, c.tokens)
        }
        let classifier = Classifier(c)
        _ = Tape.noGrad { classifier.logits(Variable(clip(c, batch: 1)), .inference()) }
        XCTAssertEqual(classifier.encoder.lastTokenCount, c.tokens)
    }

    /// Hidden tubelets never reach the model: overwriting their pixels leaves the prediction
    /// unchanged (the decoder sees mask tokens in their place).
    func testMaskedPixelsDoNotReachThePrediction() {
        let c = tiny()
        let model = PretrainModel(c)
        model.initialize(seed: 3)
        var rng = RNG(seed: 4)
        let mask = MaskGenerator(.tube, ratio: 0.75, config: c).batch(count: 1, rng: &rng)
        let x = clip(c, batch: 1)
        let before = Tape.noGrad { model.predict(Variable(x), mask: mask, .inference()) }.value.array
        // overwrite every pixel of every hidden tubelet
        let hp = c.img_size / c.patch_size, ns = hp * hp
        let y = x.copy()
        for n in mask.maskedIndex[0] {
            let g = n / ns, py = (n % ns) / hp, px = n % hp
            for dt in 0..<c.tubelet_size { for ch in 0..<3 { for dy in 0..<c.patch_size { for dx in 0..<c.patch_size {
                let t = g * c.tubelet_size + dt
                y.data[((t * 3 + ch) * c.img_size + py * c.patch_size + dy) * c.img_size + px * c.patch_size + dx] = 42
            } } } }
        }
        let after = Tape.noGrad { model.predict(Variable(y), mask: mask, .inference()) }.value.array
        XCTAssertEqual(before, after)
    }

    func testTubeMaskHidesTheSamePositionsInEveryGroup() {
        let gen = MaskGenerator(type: .tube, ratio: 0.9, temporalGroups: 8, spatialTokens: 196)
        var rng = RNG(seed: 5)
        let m = gen.batch(count: 3, rng: &rng)
        XCTAssertEqual(m.maskedCount, Int(0.9 * 196) * 8)
        for row in m.masked {
            for g in 1..<8 { XCTAssertEqual(Array(row[(g * 196)..<((g + 1) * 196)]), Array(row[0..<196])) }
        }
        XCTAssertNotEqual(m.masked[0], m.masked[1], "samples draw their own masks")
        var again = RNG(seed: 5)
        XCTAssertEqual(gen.batch(count: 3, rng: &again), m, "seeded")
    }

    func testRandomMaskCountsAndSpread() {
        let gen = MaskGenerator(type: .random, ratio: 0.7, temporalGroups: 4, spatialTokens: 16)
        var rng = RNG(seed: 6)
        let m = gen.batch(count: 4, rng: &rng)
        XCTAssertEqual(m.maskedCount, Int(0.7 * 64))
        XCTAssertTrue(m.masked.allSatisfy { $0.filter { $0 }.count == 44 })
        let groups = (0..<4).map { g in Array(m.masked[0][(g * 16)..<((g + 1) * 16)]) }
        XCTAssertFalse(groups.allSatisfy { $0 == groups[0] }, "random masking is not tube masking")
    }

    /// Parameter counts of the presets equal Hugging Face's VideoMAEForPreTraining (the peer
    /// script prints 6,246,240 for vit-tiny 16×112).
    func testPresetParameterCounts() {
        var c = ModelConfig.preset("vit-tiny")!
        c.num_frames = 16; c.img_size = 112
        XCTAssertEqual(PretrainModel(c).parameterCount, 6_246_240)
        var s = ModelConfig.preset("vit-small")!
        s.num_frames = 16; s.img_size = 224
        XCTAssertEqual(PretrainModel(s).parameterCount, 24_029_376)
        XCTAssertEqual(ModelConfig.preset("vit-base")!.encoder_embed_dim, 768)
        XCTAssertEqual(ModelConfig.preset("vit-large")!.encoder_depth, 24)
        XCTAssertNil(ModelConfig.preset("vit-huge-typo"))
    }

    func testParameterNamesAreTheOriginals() {
        let names = Set(PretrainModel(tiny()).namedParameters().map(\.0))
        for n in ["encoder.patch_embed.proj.weight", "encoder.blocks.1.attn.qkv.weight", "encoder.blocks.0.attn.q_bias",
                  "encoder.blocks.0.attn.v_bias", "encoder.blocks.0.mlp.fc2.bias", "encoder.norm.weight",
                  "encoder_to_decoder.weight", "mask_token", "decoder.blocks.0.norm1.weight", "decoder.norm.bias",
                  "decoder.head.weight"] {
            XCTAssertTrue(names.contains(n), n)
        }
        XCTAssertFalse(names.contains("encoder.blocks.0.attn.k_bias"))
        XCTAssertFalse(names.contains("encoder_to_decoder.bias"))
        let cls = Set(Classifier(tiny()).namedParameters().map(\.0))
        XCTAssertTrue(cls.isSuperset(of: ["patch_embed.proj.weight", "blocks.0.attn.qkv.weight", "fc_norm.weight", "head.weight"]))
    }

    /// The original's init: xavier-uniform Linear weights, zero biases, LayerNorm 1/0,
    /// mask_token truncated normal with std 0.02.
    func testInitialization() {
        let c = tiny()
        let model = PretrainModel(c)
        model.initialize(seed: 9)
        let p = model.parameterDictionary()
        let fc1 = p["encoder.blocks.0.mlp.fc1.weight"]!.value
        let bound = Float((6.0 / Double(fc1.shape[0] + fc1.shape[1])).squareRoot())
        XCTAssertLessThanOrEqual(fc1.array.map(abs).max()!, bound)
        XCTAssertGreaterThan(fc1.array.map(abs).max()!, 0.8 * bound)
        XCTAssertEqual(p["encoder.blocks.0.mlp.fc1.bias"]!.value.array.map(abs).max(), 0)
        XCTAssertEqual(Set(p["encoder.blocks.0.norm1.weight"]!.value.array), [1])
        XCTAssertEqual(Set(p["decoder.norm.bias"]!.value.array), [0])
        let mt = p["mask_token"]!.value.array
        XCTAssertLessThanOrEqual(mt.map(abs).max()!, 0.04 + 1e-6)
        XCTAssertGreaterThan(mt.map(abs).max()!, 0)
    }

    /// Any tubelet and patch that divide the clip, not only 2 and 16.
    func testOtherTubeletAndPatchSizes() {
        for (t, p) in [(1, 4), (4, 8), (2, 16)] {
            let c = tiny { $0.tubelet_size = t; $0.patch_size = p; $0.img_size = 32; $0.num_frames = 4 }
            XCTAssertTrue(c.problems().isEmpty, "\(c.problems())")
            let model = PretrainModel(c)
            model.initialize(seed: 1)
            var rng = RNG(seed: 1)
            let mask = MaskGenerator(.tube, ratio: 0.5, config: c).batch(count: 2, rng: &rng)
            let pred = Tape.noGrad { model.predict(Variable(clip(c, batch: 2)), mask: mask, .inference()) }
            XCTAssertEqual(pred.shape, [2, mask.maskedCount, 3 * t * p * p])
        }
        let bad = tiny { $0.patch_size = 5 }
        XCTAssertFalse(bad.problems().isEmpty)
    }

    /// Drop-path is on only when training.
    func testDropPathOnlyWhenTraining() {
        let c = tiny { $0.drop_path_rate = 0.5 }
        let model = Classifier(c)
        model.initialize(seed: 2)
        let x = Variable(clip(c, batch: 4))
        let a = Tape.noGrad { model.logits(x, .inference()) }.value.array
        let b = Tape.noGrad { model.logits(x, .inference()) }.value.array
        XCTAssertEqual(a, b)
        let t = Tape.noGrad { model.logits(x, ForwardContext(training: true, rng: RNG(seed: 3))) }.value.array
        XCTAssertNotEqual(a, t)
    }
}
