import Autodiff
import Foundation
import NN
import TensorCore
import XCTest

@testable import VideoMAE

/// `model.attention = "divided"` through the model, the config and the tools.
final class DividedModelTests: XCTestCase {
    static func tinyConfig(_ attention: String = "divided") -> ModelConfig {
        var c = ModelConfig()
        c.img_size = 32; c.num_frames = 8; c.patch_size = 8; c.tubelet_size = 2
        c.encoder_embed_dim = 16; c.encoder_depth = 2; c.encoder_num_heads = 2
        c.decoder_embed_dim = 8; c.decoder_depth = 1; c.decoder_num_heads = 2
        c.num_classes = 3
        c.attention = attention
        return c
    }

    func testModelConfigAttentionKey() throws {
        let bare = #"{"img_size": 32, "num_frames": 4, "patch_size": 8}"#
        XCTAssertEqual(try JSONDecoder().decode(ModelConfig.self, from: Data(bare.utf8)).attention, "joint")
        let div = #"{"img_size": 32, "attention": "divided"}"#
        let c = try JSONDecoder().decode(ModelConfig.self, from: Data(div.utf8))
        XCTAssertEqual(c.attention, "divided")
        XCTAssertTrue(c.dividedAttention)
        XCTAssertEqual(try JSONDecoder().decode(ModelConfig.self, from: try JSONEncoder().encode(c)), c)
        var bad = ModelConfig()
        bad.attention = "axial"
        XCTAssertTrue(bad.problems().contains { $0.hasPrefix("model.attention:") }, "\(bad.problems())")
        XCTAssertTrue(ModelConfig().problems().isEmpty)
    }

    /// Divided blocks in the encoder only; the decoder stays joint. TimeSformer's init:
    /// temporal_fc zero in every block but the first.
    func testEncoderBuildsDividedBlocks() {
        let m = PretrainModel(Self.tinyConfig())
        m.initialize(seed: 1)
        let names = Set(m.namedParameters().map(\.0))
        XCTAssertEqual(m.encoder.blocks.count, 0)
        XCTAssertEqual(m.encoder.dividedBlocks.count, 2)
        for s in ["temporal_norm1.weight", "temporal_attn.qkv.weight", "temporal_attn.q_bias", "temporal_attn.v_bias",
                  "temporal_attn.proj.weight", "temporal_fc.weight", "temporal_fc.bias", "attn.qkv.weight", "mlp.fc2.bias"] {
            XCTAssertTrue(names.contains("encoder.blocks.0.\(s)"), s)
            XCTAssertTrue(names.contains("encoder.blocks.1.\(s)"), s)
        }
        XCTAssertFalse(names.contains { $0.hasPrefix("decoder.") && $0.contains("temporal") })
        XCTAssertTrue(names.contains("decoder.blocks.0.attn.qkv.weight"))
        let p = m.parameterDictionary()
        XCTAssertGreaterThan(p["encoder.blocks.0.temporal_fc.weight"]!.value.array.map(abs).max()!, 0)
        XCTAssertEqual(p["encoder.blocks.1.temporal_fc.weight"]!.value.array.map(abs).max()!, 0)

        let c = Classifier(Self.tinyConfig())
        XCTAssertTrue(c.namedParameters().contains { $0.0 == "blocks.1.temporal_attn.qkv.weight" })
        let joint = Classifier(Self.tinyConfig("joint"))
        XCTAssertFalse(joint.namedParameters().contains { $0.0.contains("temporal") })
        // the extra sub-layer: norm (2D) + qkv (3D² + 2D) + proj (D² + D) + temporal_fc (D² + D) per block
        let d = 16
        XCTAssertEqual(c.parameterCount - joint.parameterCount, 2 * (2 * d + 3 * d * d + 2 * d + 2 * (d * d + d)))
    }

    /// Pretraining with tube masking: the encoder runs the visible grid (G · S_vis tokens) and
    /// every temporal parameter gets a gradient.
    func testPretrainingOnTubeMaskVisibleGrid() {
        let c = Self.tinyConfig()
        let m = PretrainModel(c)
        m.initialize(seed: 2)
        var rng = RNG(seed: 3)
        let mask = MaskGenerator(.tube, ratio: 0.75, config: c).batch(count: 2, rng: &rng)
        XCTAssertNil(Encoder.gridError(mask.visibleIndex, groups: c.temporalGroups, spatial: c.spatialTokens))
        let x = Tensor(uninitialized: [2, 8, 3, 32, 32])
        rng.fillNormal(x)
        m.zeroGrad()
        let loss = m.loss(x, mask: mask, ForwardContext(training: true, rng: RNG(seed: 4)))
        XCTAssertTrue(loss.value[flat: 0].isFinite)
        XCTAssertEqual(m.encoder.lastTokenCount, c.temporalGroups * (c.spatialTokens - Int(0.75 * Double(c.spatialTokens))))
        loss.backward()
        let g = m.parameterDictionary()["encoder.blocks.0.temporal_attn.qkv.weight"]!.grad!
        XCTAssertGreaterThan(g.array.map(abs).max()!, 0)
    }

    /// Random masks leave no grid: the encoder would refuse them (the config refuses first).
    func testGridErrorForRandomMasks() {
        let c = Self.tinyConfig()
        var rng = RNG(seed: 5)
        let random = MaskGenerator(.random, ratio: 0.75, config: c).batch(count: 4, rng: &rng)
        XCTAssertNotNil(Encoder.gridError(random.visibleIndex, groups: c.temporalGroups, spatial: c.spatialTokens))
        // a count that is a multiple of G but different positions per group
        XCTAssertNotNil(Encoder.gridError([[0, 1, 16 + 2, 16 + 3]], groups: 2, spatial: 16))
        XCTAssertNotNil(Encoder.gridError([[0, 1, 16]], groups: 2, spatial: 16))
        XCTAssertNil(Encoder.gridError([[0, 5, 16, 21]], groups: 2, spatial: 16))
        XCTAssertNil(Encoder.gridError([Array(0..<32)], groups: 2, spatial: 16))
    }

}
