import Autodiff
import TensorCore

/// The Conv3d tubelet embedding (`patch_embed.proj`, weight [D, C, t, p, p], stride = kernel),
/// computed as patchify + one GEMM on only the tokens asked for.
public final class TubeletEmbedding: Module {
    public let weight: Variable   // [D, C, t, p, p]
    public let bias: Variable     // [D]
    public let tubelet: Int
    public let patch: Int
    public let inChans: Int
    public let dim: Int

    public init(inChans: Int, dim: Int, tubelet: Int, patch: Int) {
        self.tubelet = tubelet
        self.patch = patch
        self.inChans = inChans
        self.dim = dim
        weight = parameter([dim, inChans, tubelet, patch, patch])
        bias = parameter([dim])
    }

    public var localParameters: [(String, Variable)] { [("proj.weight", weight), ("proj.bias", bias)] }

    /// pixels [B, T, C, H, W] → tokens [B, n, D], n = index's row length (all tokens when nil).
    public func callAsFunction(_ pixels: Variable, tokens index: TokenIndex?) -> Variable {
        var rows = patchify(pixels, tubelet: tubelet, patch: patch)      // [B, N, C·t·p·p]
        if let index { rows = gatherTokens(rows, index) }                 // [B, n, C·t·p·p]
        let w = reshape(weight, [dim, inChans * tubelet * patch * patch])
        return linear(rows, w, bias)                                       // [B, n, D]
    }

    /// PyTorch's default Conv3d init (kaiming-uniform with a = √5): U(±1/√fan_in) for weight and bias.
    public func initDefault(_ rng: inout RNG) {
        let bound = Float(1 / Double(inChans * tubelet * patch * patch).squareRoot())
        rng.fillUniform(weight.value, low: -bound, high: bound)
        rng.fillUniform(bias.value, low: -bound, high: bound)
    }
}
