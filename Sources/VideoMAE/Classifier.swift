import Autodiff
import NN
import TensorCore

/// VideoMAE for classification (fine-tuning): the encoder on all tokens, mean over tokens,
/// `fc_norm`, `head`. Parameter names: patch_embed.*, blocks.{i}.*, fc_norm.*, head.*.
public final class Classifier: Module {
    public let config: ModelConfig
    public let encoder: Encoder
    public let fcNorm: LayerNorm
    public let head: Linear

    public init(_ c: ModelConfig) {
        config = c
        encoder = Encoder(c)
        fcNorm = LayerNorm(c.encoder_embed_dim, eps: Float(c.layer_norm_eps))
        head = Linear(c.encoder_embed_dim, c.num_classes)
    }

    /// The encoder's children sit at the root (no `encoder.` prefix), as the original.
    public var children: [(String, Module)] {
        encoder.children + [("fc_norm", fcNorm), ("head", head)]
    }

    /// The original's fine-tuning init: xavier for blocks, head truncated normal 0.02 scaled by `initScale`.
    public func initialize(seed: UInt64, initScale: Float = 0.001) {
        var rng = RNG(seed: seed)
        encoder.initialize(&rng)
        rng.fillTruncatedNormal(head.weight.value, std: 0.02)
        Kernels.scale(initScale, head.weight.value.data, head.weight.value.data, head.weight.count)
        head.bias?.value.zero()
    }

    /// pixels [B, T, C, H, W] → logits [B, K]
    public func logits(_ pixels: Variable, _ ctx: ForwardContext) -> Variable {
        let x = encoder(pixels, visible: nil, ctx)         // [B, N, D]
        return head(fcNorm(meanTokens(x)))                 // [B, K]
    }

    public func loss(_ pixels: Tensor, labels: [Int], smoothing: Float, _ ctx: ForwardContext) -> (loss: Variable, logits: Variable) {
        let z = logits(Variable(pixels), ctx)
        return (crossEntropy(z, labels: labels, smoothing: smoothing), z)
    }
}
