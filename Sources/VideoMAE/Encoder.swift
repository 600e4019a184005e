import Autodiff
import NN
import TensorCore

/// The ViT encoder: tubelet embedding + sinusoid positions + blocks. It embeds and runs only
/// the tokens it is given (the visible tenth when pretraining, all tokens when classifying).
public final class Encoder: Module {
    public let config: ModelConfig
    public let patchEmbed: TubeletEmbedding
    public let blocks: [Block]
    /// The blocks when `config.attention` is "divided" (then `blocks` is empty, and the other way round).
    public let dividedBlocks: [DividedBlock]
    public let positions: Tensor   // [N, D], fixed

    public init(_ c: ModelConfig) {
        config = c
        patchEmbed = TubeletEmbedding(inChans: c.in_chans, dim: c.encoder_embed_dim, tubelet: c.tubelet_size, patch: c.patch_size)
        // stochastic depth grows linearly with depth, as the original
        func rate(_ i: Int) -> Float {
            Float(c.encoder_depth > 1 ? c.drop_path_rate * Double(i) / Double(c.encoder_depth - 1) : c.drop_path_rate)
        }
        blocks = c.dividedAttention ? [] : (0..<c.encoder_depth).map { i in
            Block(dim: c.encoder_embed_dim, heads: c.encoder_num_heads, mlpRatio: c.mlp_ratio,
                  qkvBias: c.qkv_bias, eps: Float(c.layer_norm_eps), dropPath: rate(i))
        }
        dividedBlocks = !c.dividedAttention ? [] : (0..<c.encoder_depth).map { i in
            DividedBlock(dim: c.encoder_embed_dim, heads: c.encoder_num_heads, mlpRatio: c.mlp_ratio,
                         qkvBias: c.qkv_bias, eps: Float(c.layer_norm_eps), groups: c.temporalGroups, dropPath: rate(i))
        }
        positions = sinusoidTable(tokens: c.tokens, dim: c.encoder_embed_dim)
    }

    public var children: [(String, Module)] {
        [("patch_embed", patchEmbed)] + blocks.enumerated().map { ("blocks.\($0.offset)", $0.element) }
            + dividedBlocks.enumerated().map { ("blocks.\($0.offset)", $0.element) }
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
        if !dividedBlocks.isEmpty, let visible, let e = Self.gridError(visible, groups: config.temporalGroups, spatial: config.spatialTokens) {
            preconditionFailure(e)
        }
        for blk in blocks { x = blk(x, ctx) }
        for blk in dividedBlocks { x = blk(x, ctx) }
        return x
    }

    public func initialize(_ rng: inout RNG) {
        patchEmbed.initDefault(&rng)
        for b in blocks { b.initXavier(&rng) }
        // TimeSformer: temporal_fc starts at zero in every block but the first
        for (i, b) in dividedBlocks.enumerated() { b.initXavier(&rng, zeroTemporalFC: i > 0) }
    }

    /// Divided attention needs the visible tokens on a regular grid: per sample, the same
    /// spatial positions in every temporal group (a tube mask), ascending (time-major).
    /// The reason they are not, or nil.
    public static func gridError(_ visible: [[Int]], groups: Int, spatial: Int) -> String? {
        for (b, v) in visible.enumerated() {
            if v.count % groups != 0 {
                return "divided attention: sample \(b) keeps \(v.count) tokens, not a multiple of \(groups) temporal groups (use tube masking)"
            }
            let per = v.count / groups
            for g in 0..<groups {
                for j in 0..<per where v[g * per + j] != g * spatial + v[j] {
                    return "divided attention: sample \(b) does not keep the same spatial positions in every temporal group (use tube masking)"
                }
            }
        }
        return nil
    }
}
