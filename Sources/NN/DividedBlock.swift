import Autodiff
import TensorCore

/// A divided space-time block (TimeSformer's `divided_space_time` Block, without its CLS token),
/// on time-major tokens [B, G·S, D] (n = g·S + s: G temporal groups of S spatial positions):
///   x = x + dropPath(temporal_fc(temporal_attn(temporal_norm1(x))))   attention over the G tokens
///                                                                     at each spatial position
///   x = x + dropPath(attn(norm1(x)))                                  attention over the S tokens
///                                                                     of each temporal group
///   x = x + dropPath(mlp(norm2(x)))
/// Parameter names (TimeSformer's): temporal_norm1.weight|bias, temporal_attn.qkv.weight,
/// temporal_attn.q_bias|v_bias, temporal_attn.proj.weight|bias, temporal_fc.weight|bias, then the
/// joint block's norm1, attn.*, norm2, mlp.*.
///
/// S is read from the input (S = n / G), so the same block runs on all N tokens (fine-tuning) and
/// on the visible tokens of a tube mask (the same S_vis positions in every group, time-major).
/// Layout changes: the spatial step is a reshape ([B, G·S, D] is [B·G, S, D], no copy); the
/// temporal step regroups to [B·S, G, D] and back (`regroupTokens`, one copy each way).
/// Drop path is per sample on the [B, N, D] residuals (timm's intent; TimeSformer draws it per
/// sequence in the temporal and spatial branches). Without drop path the two agree exactly.
public final class DividedBlock: Module {
    public let temporalNorm1: LayerNorm
    public let temporalAttn: Attention
    public let temporalFC: Linear
    public let norm1: LayerNorm
    public let attn: Attention
    public let norm2: LayerNorm
    public let mlp: Mlp
    public let groups: Int
    public let dropPathRate: Float

    /// `groups`: the temporal groups G = T / tubelet of every input.
    public init(dim: Int, heads: Int, mlpRatio: Double, qkvBias: Bool, eps: Float, groups: Int, dropPath: Float = 0) {
        precondition(groups >= 1, "divided block: groups must be ≥ 1, got \(groups)")
        temporalNorm1 = LayerNorm(dim, eps: eps)
        temporalAttn = Attention(dim: dim, heads: heads, qkvBias: qkvBias)
        temporalFC = Linear(dim, dim)
        norm1 = LayerNorm(dim, eps: eps)
        attn = Attention(dim: dim, heads: heads, qkvBias: qkvBias)
        norm2 = LayerNorm(dim, eps: eps)
        mlp = Mlp(dim: dim, hidden: Int(Double(dim) * mlpRatio))
        self.groups = groups
        dropPathRate = dropPath
    }

    public var children: [(String, Module)] {
        [("temporal_norm1", temporalNorm1), ("temporal_attn", temporalAttn), ("temporal_fc", temporalFC),
         ("norm1", norm1), ("attn", attn), ("norm2", norm2), ("mlp", mlp)]
    }

    /// x [B, G·S, D] → [B, G·S, D]
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        precondition(x.shape.count == 3 && x.shape[1] % groups == 0 && x.shape[1] > 0,
                     "divided block: tokens \(x.shape) are not \(groups) temporal groups of equal size")
        let b = x.shape[0], n = x.shape[1], d = x.shape[2], g = groups, s = n / g
        let rate = ctx.training ? dropPathRate : 0
        // temporal: [B, G·S, D] → [B·S, G, D] → attention over G → back to [B, G·S, D]
        var t = regroupTokens(x, batch: b, rows: g, cols: s, as: [b * s, g, d])
        t = temporalFC(temporalAttn(temporalNorm1(t)))
        t = regroupTokens(t, batch: b, rows: s, cols: g, as: [b, n, d])
        var h = add(x, Autodiff.dropPath(t, rate: rate, rng: &ctx.rng))
        // spatial: [B, G·S, D] is [B·G, S, D]
        let sp = attn(norm1(reshape(h, [b * g, s, d])))
        h = add(h, Autodiff.dropPath(reshape(sp, [b, n, d]), rate: rate, rng: &ctx.rng))
        h = add(h, Autodiff.dropPath(mlp(norm2(h)), rate: rate, rng: &ctx.rng))
        return h
    }

    /// Xavier-uniform Linear weights, zero biases, LayerNorm 1/0 (as `Block`). With
    /// `zeroTemporalFC`, temporal_fc starts at zero (TimeSformer does so for every block but
    /// the first): the block then starts as a spatial-only block and learns its temporal part.
    public func initXavier(_ rng: inout RNG, zeroTemporalFC: Bool = false) {
        temporalAttn.initXavier(&rng)
        temporalFC.initXavier(&rng)
        if zeroTemporalFC { temporalFC.weight.value.zero() }
        attn.initXavier(&rng)
        mlp.initXavier(&rng)
    }
}
