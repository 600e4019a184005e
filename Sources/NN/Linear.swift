import Autodiff
import TensorCore

/// nn.Linear: `weight [out, in]`, optional `bias [out]`.
public final class Linear: Module {
    public let weight: Variable
    public let bias: Variable?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        weight = parameter([outFeatures, inFeatures])
        self.bias = bias ? parameter([outFeatures]) : nil
    }

    public var localParameters: [(String, Variable)] {
        var p = [("weight", weight)]
        if let bias { p.append(("bias", bias)) }
        return p
    }

    public func callAsFunction(_ x: Variable) -> Variable { linear(x, weight, bias) }

    /// The original VideoMAE's init for Linear: xavier-uniform weight, zero bias.
    public func initXavier(_ rng: inout RNG) {
        let out = weight.shape[0], inF = weight.shape[1]
        let a = Float((6.0 / Double(inF + out)).squareRoot())
        rng.fillUniform(weight.value, low: -a, high: a)
        bias?.value.zero()
    }
}

/// nn.LayerNorm over the last axis: `weight [D]` (1), `bias [D]` (0).
public final class LayerNorm: Module {
    public let weight: Variable
    public let bias: Variable
    public let eps: Float

    public init(_ dim: Int, eps: Float) {
        weight = parameter([dim], 1)
        bias = parameter([dim], 0)
        self.eps = eps
    }

    public var localParameters: [(String, Variable)] { [("weight", weight), ("bias", bias)] }

    public func callAsFunction(_ x: Variable) -> Variable { layerNorm(x, weight: weight, bias: bias, eps: eps) }
}
