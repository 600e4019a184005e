import Autodiff
import TensorCore

/// Multi-head self-attention as in the original VideoMAE: one fused `qkv.weight [3D, D]`
/// (rows q, then k, then v), biases `q_bias` and `v_bias` (the key has none), `proj`.
public final class Attention: Module {
    public let dim: Int
    public let heads: Int
    public let qkvWeight: Variable
    public let qBias: Variable?
    public let vBias: Variable?
    public let proj: Linear
    private let zeroKBias: Variable  // constant zeros between q_bias and v_bias

    public init(dim: Int, heads: Int, qkvBias: Bool) {
        precondition(dim % heads == 0, "attention: \(heads) heads do not divide width \(dim)")
        self.dim = dim
        self.heads = heads
        qkvWeight = parameter([3 * dim, dim])
        qBias = qkvBias ? parameter([dim]) : nil
        vBias = qkvBias ? parameter([dim]) : nil
        proj = Linear(dim, dim)
        zeroKBias = Variable(Tensor(zeros: [dim]))
    }

    public var localParameters: [(String, Variable)] {
        var p = [("qkv.weight", qkvWeight)]
        if let qBias, let vBias { p += [("q_bias", qBias), ("v_bias", vBias)] }
        return p
    }
    public var children: [(String, Module)] { [("proj", proj)] }

    /// x [B, N, D] → [B, N, D]
    public func callAsFunction(_ x: Variable) -> Variable {
        var bias: Variable? = nil
        if let qBias, let vBias { bias = concat([qBias, zeroKBias, vBias]) }
        let qkv = linear(x, qkvWeight, bias)          // [B, N, 3D]
        return proj(attention(qkv, heads: heads))     // [B, N, D]
    }

    public func initXavier(_ rng: inout RNG) {
        let a = Float((6.0 / Double(dim + 3 * dim)).squareRoot())
        rng.fillUniform(qkvWeight.value, low: -a, high: a)
        qBias?.value.zero()
        vBias?.value.zero()
        proj.initXavier(&rng)
    }
}

/// The transformer MLP: fc1 → GELU → fc2.
public final class Mlp: Module {
    public let fc1: Linear
    public let fc2: Linear

    public init(dim: Int, hidden: Int) {
        fc1 = Linear(dim, hidden)
        fc2 = Linear(hidden, dim)
    }

    public var children: [(String, Module)] { [("fc1", fc1), ("fc2", fc2)] }

    public func callAsFunction(_ x: Variable) -> Variable { fc2(gelu(fc1(x))) }

    public func initXavier(_ rng: inout RNG) {
        fc1.initXavier(&rng)
        fc2.initXavier(&rng)
    }
}
