import Autodiff
import NN
import TensorCore

/// VideoMAE for pretraining: the encoder on the visible tokens, `encoder_to_decoder`, mask tokens
/// with their positions, a light decoder, and the normalized-pixel loss on the masked tokens.
public final class PretrainModel: Module {
    public let config: ModelConfig
    public let encoder: Encoder
    public let encoderNorm: LayerNorm
    public let encoderToDecoder: Linear
    public let maskToken: Variable          // [1, 1, Dd]
    public let decoderBlocks: [Block]
    public let decoderNorm: LayerNorm
    public let decoderHead: Linear
    public let decoderPositions: Tensor    // [N, Dd], fixed
    /// The input normalization to undo before building targets.
    public var mean: [Float] = imagenetMean
    public var std: [Float] = imagenetStd

    public init(_ c: ModelConfig) {
        config = c
        let eps = Float(c.layer_norm_eps)
        encoder = Encoder(c)
        encoderNorm = LayerNorm(c.encoder_embed_dim, eps: eps)
        encoderToDecoder = Linear(c.encoder_embed_dim, c.decoder_embed_dim, bias: false)
        maskToken = parameter([1, 1, c.decoder_embed_dim])
        decoderBlocks = (0..<c.decoder_depth).map { _ in
            Block(dim: c.decoder_embed_dim, heads: c.decoder_num_heads, mlpRatio: c.mlp_ratio,
                  qkvBias: c.qkv_bias, eps: eps)
        }
        decoderNorm = LayerNorm(c.decoder_embed_dim, eps: eps)
        decoderHead = Linear(c.decoder_embed_dim, c.tubeletPixels)
        decoderPositions = sinusoidTable(tokens: c.tokens, dim: c.decoder_embed_dim)
    }

    public var localParameters: [(String, Variable)] { [("mask_token", maskToken)] }
    public var children: [(String, Module)] {
        var c: [(String, Module)] = [("encoder", encoder)]
        // encoder.norm sits under the encoder's prefix in the original's names
        c.append(("encoder.norm", encoderNorm))
        c.append(("encoder_to_decoder", encoderToDecoder))
        c += decoderBlocks.enumerated().map { ("decoder.blocks.\($0.offset)", $0.element) }
        c.append(("decoder.norm", decoderNorm))
        c.append(("decoder.head", decoderHead))
        return c
    }

    /// The original's init: xavier-uniform Linear weights, zero biases, LayerNorm 1/0,
    /// Conv3d PyTorch default, mask_token truncated normal (std 0.02).
    public func initialize(seed: UInt64) {
        var rng = RNG(seed: seed)
        encoder.initialize(&rng)
        encoderToDecoder.initXavier(&rng)
        for b in decoderBlocks { b.initXavier(&rng) }
        decoderHead.initXavier(&rng)
        rng.fillTruncatedNormal(maskToken.value, std: 0.02)
    }

    /// pixels [B, T, C, H, W] (normalized), mask → predictions [B, nm, C·t·p·p] of the tokens the
    /// decoder reconstructs (`mask.decodedIndex`: the masked tokens, or V2's decoder-kept subset).
    public func predict(_ pixels: Variable, mask: Mask, _ ctx: ForwardContext) -> Variable {
        precondition(mask.batch == pixels.shape[0] && mask.tokens == config.tokens, "mask does not fit the batch")
        let vis = mask.visibleIndex, msk = mask.decodedIndex
        let B = mask.batch, nm = mask.decodedCount, Dd = config.decoder_embed_dim
        var x = encoder(pixels, visible: vis, ctx)                                   // [B, nv, D]
        x = encoderNorm(x)
        x = encoderToDecoder(x)                                                      // [B, nv, Dd]
        let visibleTokens = add(x, Variable(gatherRows(decoderPositions, vis)))      // + PE
        let maskTokens = add(Variable(gatherRows(decoderPositions, msk)), reshape(maskToken, [Dd]))  // [B, nm, Dd]
        var h = concatTokens([visibleTokens, maskTokens])                            // [B, nv + nm, Dd]: visible, then mask tokens
        for blk in decoderBlocks { h = blk(h, ctx) }
        let last = TokenIndex(Array(repeating: Array((h.shape[1] - nm)..<h.shape[1]), count: B), tokens: h.shape[1])
        h = gatherTokens(h, last)                                                    // [B, nm, Dd]
        return decoderHead(decoderNorm(h))                                           // [B, nm, C·t·p·p]
    }

    /// The design's loss: MSE between predictions and (normalized) pixel targets of the decoded
    /// tokens (the masked ones, or V2's decoder-kept subset).
    public func loss(_ pixels: Tensor, mask: Mask, _ ctx: ForwardContext) -> Variable {
        let pred = predict(Variable(pixels), mask: mask, ctx)
        let target = pixelTargets(pixels, tokens: mask.decodedIndex, tubelet: config.tubelet_size,
                                  patch: config.patch_size, mean: mean, std: std, normalize: config.normalize_target)
        OpProfile.phase("pixel targets")
        return mseLoss(pred, target)
    }
}
