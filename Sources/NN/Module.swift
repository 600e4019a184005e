import Autodiff
import TensorCore

/// What a forward pass needs besides its input: whether it is training (drop-path on) and
/// the generator that draws drop-path masks.
public final class ForwardContext {
    public var training: Bool
    public var rng: RNG
    public init(training: Bool, rng: RNG = RNG(seed: 0)) {
        self.training = training
        self.rng = rng
    }
    public static func inference() -> ForwardContext { ForwardContext(training: false) }
}

/// A layer: parameters under explicit local names, children under theirs. The full name of a
/// parameter is the dotted path from the root (`encoder.blocks.0.attn.qkv.weight`), as in the
/// original VideoMAE and mlx-swift.
public protocol Module: AnyObject {
    /// This module's own parameters, by local name.
    var localParameters: [(String, Variable)] { get }
    /// Child modules, by local name (list indices for repeated blocks: "blocks.0").
    var children: [(String, Module)] { get }
}

extension Module {
    public var localParameters: [(String, Variable)] { [] }
    public var children: [(String, Module)] { [] }

    /// Every parameter under its dotted path, in a stable order (declaration order).
    public func namedParameters(prefix: String = "") -> [(String, Variable)] {
        var out: [(String, Variable)] = []
        for (n, v) in localParameters { out.append((prefix + n, v)) }
        for (n, m) in children { out += m.namedParameters(prefix: prefix + n + ".") }
        for (n, v) in out where v.name.isEmpty { v.name = n }
        return out
    }

    /// Name → parameter.
    public func parameterDictionary() -> [String: Variable] {
        Dictionary(uniqueKeysWithValues: namedParameters())
    }

    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.count } }

    public func zeroGrad() { for (_, p) in namedParameters() { p.zeroGrad() } }
}

/// Makes a trainable parameter.
public func parameter(_ shape: [Int], _ fill: Float = 0) -> Variable {
    Variable(Tensor(filled: fill, shape: shape), requiresGrad: true)
}
