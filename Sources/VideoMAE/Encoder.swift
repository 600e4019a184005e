import Autodiff
import NN
import TensorCore

/// The ViT encoder: tubelet embedding + sinusoid positions + blocks. It embeds and runs only
/// the tokens it is given (the visible tenth when pretraining, all tokens when classifying).
public final class Encoder: Module {
    public let config: ModelConfig
    public let patchEmbed: TubeletEmbedding
    public let blocks: [Block]
    public let positions: Tensor   // [N, D], fixed

    public init(_ c: ModelConfig) {
        config = c
        patchEmbed = TubeletEmbedding(inChans: c.in_chans, dim: c.encoder_embed_dim, tubelet: c.tubelet_size, patch: c.patch_size)
        // stochastic depth grows linearly with depth, as the original
        blocks = (0..<c.encoder_depth).map { i in
            let rate = c.encoder_depth > 1 ? c.drop_path_rate * Double(i) / Double(c.encoder_depth - 1) : c.drop_path_rate
            return Block(dim: c.encoder_embed_dim, heads: c.encoder_num_heads, mlpRatio: c.mlp_ratio,
                         qkvBias: c.qkv_bias, eps: Float(c.layer_norm_eps), dropPath: Float(rate))
        }
        positions = sinusoidTable(tokens: c.tokens, dim: c.encoder_embed_dim)
    }

    public var children: [(String, Module)] {
        [("patch_embed", patchEmbed)] + blocks.enumerated().map { ("blocks.\($0.offset)", $0.element) }
    }

    /// Number of tokens that entered the blocks on the last forward (the masked-encoder proof).
    public private(set) var lastTokenCount = 0

    /// pixels [B, T, C, H, W] → features [B, n, D] of the tokens in `visible` (all when nil).
    public func callAsFunction(_ pixels: Variable, visible: [[Int]]?, _ ctx: ForwardContext) -> Variable {
        let index = visible.map { TokenIndex($0, tokens: config.tokens) }
        var x = patchEmbed(pixels, tokens: index)                                   // [B, n, D]
        // + PE (constant): the visible rows, or the whole table broadcast over the batch
        x = add(x, Variable(visible.map { gatherRows(positions, $0) } ?? positions))
        lastTokenCount = x.shape[1]
        for blk in blocks { x = blk(x, ctx) }
        return x
    }

    public func initialize(_ rng: inout RNG) {
        patchEmbed.initDefault(&rng)
        for b in blocks { b.initXavier(&rng) }
    }
}
