import Autodiff
import Foundation
import TensorCore

/// AdamW with PyTorch's semantics (torch.optim.AdamW, single-tensor path): decoupled weight
/// decay p ← p·(1 − lr·wd), bias-corrected moments, eps added outside the square root.
/// Each parameter carries its own lr scale (layer decay) and whether it decays.
public final class AdamW {
    public struct Slot {
        public let name: String
        public let param: Variable
        public let decay: Bool
        public var lrScale: Float
        public let expAvg: Tensor      // first moment, same shape as param
        public let expAvgSq: Tensor    // second moment
    }

    public private(set) var slots: [Slot]
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    /// Steps taken (PyTorch's `state["step"]`, the same for every parameter here).
    public var stepCount: Int = 0

    /// - Parameters:
    ///   - params: named parameters; those with requiresGrad false are skipped (frozen).
    ///   - noDecay: which names get no weight decay (default: 1-D tensors, biases, mask_token,
    ///     the design's rule).
    public init(_ params: [(String, Variable)], beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                noDecay: ((String, Variable) -> Bool)? = nil, lrScale: ((String) -> Float)? = nil) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        let skip = noDecay ?? AdamW.defaultNoDecay
        slots = params.filter { $0.1.requiresGrad }.map { (n, p) in
            Slot(name: n, param: p, decay: !skip(n, p), lrScale: lrScale?(n) ?? 1,
                 expAvg: Tensor(zeros: p.shape), expAvgSq: Tensor(zeros: p.shape))
        }
    }

    /// No decay for parameters of fewer than 2 dimensions, biases, and mask_token.
    public static func defaultNoDecay(_ name: String, _ p: Variable) -> Bool {
        p.shape.count < 2 || name.hasSuffix(".bias") || name.hasSuffix("mask_token")
    }

    /// One update with learning rate `lr` and weight decay `weightDecay` (scheduled values).
    /// Parameters without a gradient are left alone.
    public func step(lr: Double, weightDecay: Double) {
        stepCount += 1
        let t = Double(stepCount)
        let bc1 = 1 - pow(Double(beta1), t)
        let bc2Sqrt = (1 - pow(Double(beta2), t)).squareRoot()
        for s in slots {
            guard let g = s.param.grad else { continue }
            let plr = lr * Double(s.lrScale)
            let decayFactor = Float(1 - plr * (s.decay ? weightDecay : 0))
            let stepSize = Float(plr / bc1)
            adamwUpdate(p: s.param.value.data, g: g.data, m: s.expAvg.data, v: s.expAvgSq.data, n: s.param.count,
                        decayFactor: decayFactor, beta1: beta1, beta2: beta2, stepSize: stepSize,
                        invBc2Sqrt: Float(1 / bc2Sqrt), eps: eps)
        }
    }
}

/// The AdamW update of one tensor, in place:
///   p ← p·decayFactor;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
///   p ← p − stepSize · m / (√v / √bc2 + eps)
///   p, g, m, v: [n]
@inline(__always)
func adamwUpdate(p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                 v: UnsafeMutablePointer<Float>, n: Int, decayFactor: Float, beta1: Float, beta2: Float,
                 stepSize: Float, invBc2Sqrt: Float, eps: Float) {
    let a1 = 1 - beta1, a2 = 1 - beta2
    // Eight lanes at a time (the scalar loop did not vectorize: p, m, v may alias, and its sqrt and
    // divide ran one float at a time: 10% of a vit-base step). Same operations in the same order
    // per element, so the result is bit for bit the scalar one (the tail below).
    parallelFor(n, minChunk: 1 << 15) { r in
        typealias V = VecMath.V
        let va1 = V(repeating: a1), vb2 = V(repeating: beta2), va2 = V(repeating: a2)
        let vinv = V(repeating: invBc2Sqrt), veps = V(repeating: eps)
        let vdecay = V(repeating: decayFactor), vstep = V(repeating: stepSize)
        var i = r.lowerBound
        while i + 8 <= r.upperBound {
            let gi = VecMath.load(g + i), m0 = VecMath.load(m + i)
            let mi = m0 + va1 * (gi - m0)
            let vi = VecMath.load(v + i) * vb2 + va2 * gi * gi
            VecMath.store(mi, m + i)
            VecMath.store(vi, v + i)
            let denom = vi.squareRoot() * vinv + veps
            VecMath.store(VecMath.load(p + i) * vdecay - vstep * mi / denom, p + i)
            i += 8
        }
        while i < r.upperBound {
            let gi = g[i]
            let mi = m[i] + a1 * (gi - m[i])          // torch: exp_avg.lerp_(grad, 1 − β1)
            let vi = v[i] * beta2 + a2 * gi * gi
            m[i] = mi
            v[i] = vi
            let denom = vi.squareRoot() * invBc2Sqrt + eps
            p[i] = p[i] * decayFactor - stepSize * mi / denom
            i += 1
        }
    }
}

/// Global gradient norm √(Σ g²) over all parameters with a gradient.
public func globalGradNorm(_ params: [Variable]) -> Double {
    var s: Double = 0
    for p in params { if let g = p.grad { s += Kernels.sumSquares(g.data, g.count) } }
    return s.squareRoot()
}

/// PyTorch's clip_grad_norm_: scales every gradient by max/(norm + 1e-6) when the norm exceeds
/// max. Returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ params: [Variable], maxNorm: Double) -> Double {
    let norm = globalGradNorm(params)
    let coef = maxNorm / (norm + 1e-6)
    if coef < 1 {
        for p in params { if let g = p.grad { Kernels.scale(Float(coef), g.data, g.data, g.count) } }
    }
    return norm
}
