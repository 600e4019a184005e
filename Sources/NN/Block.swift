import Autodiff
import TensorCore

/// A pre-norm transformer block (the original VideoMAE's `Block`):
///   x = x + dropPath(attn(norm1(x)));  x = x + dropPath(mlp(norm2(x)))
public final class Block: Module {
    public let norm1: LayerNorm
    public let attn: Attention
    public let norm2: LayerNorm
    public let mlp: Mlp
    public let dropPathRate: Float

    public init(dim: Int, heads: Int, mlpRatio: Double, qkvBias: Bool, eps: Float, dropPath: Float = 0) {
        norm1 = LayerNorm(dim, eps: eps)
        attn = Attention(dim: dim, heads: heads, qkvBias: qkvBias)
        norm2 = LayerNorm(dim, eps: eps)
        mlp = Mlp(dim: dim, hidden: Int(Double(dim) * mlpRatio))
        dropPathRate = dropPath
    }

    public var children: [(String, Module)] {
        [("norm1", norm1), ("attn", attn), ("norm2", norm2), ("mlp", mlp)]
    }

    /// x [B, N, D] → [B, N, D]
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        let rate = ctx.training ? dropPathRate : 0
        var h = add(x, Autodiff.dropPath(attn(norm1(x)), rate: rate, rng: &ctx.rng))
        h = add(h, Autodiff.dropPath(mlp(norm2(h)), rate: rate, rng: &ctx.rng))
        return h
    }

    public func initXavier(_ rng: inout RNG) {
        attn.initXavier(&rng)
        mlp.initXavier(&rng)
    }
}
