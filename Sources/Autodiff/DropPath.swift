import TensorCore

// dropPath: stochastic depth, as timm's drop_path (per sample, not per element)
//   x:      [B, ...] (E elements per sample)
//   factor: [B], factor[b] = 1/(1 − rate) when sample b is kept (probability 1 − rate), else 0
//   out:    [B, ...], out[b, e] = factor[b] · x[b, e];  dx[b, e] += factor[b] · dout[b, e]

/// out[B, E] = factor[B] ⊙ x[B, E]
@inline(__always)
func dropPathForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ factor: UnsafePointer<Float>,
                     b: Int, e: Int) {
    parallelFor(b * e, minChunk: 1 << 16) { r in
        var i = r.lowerBound
        while i < r.upperBound {                      // one run per sample within the chunk
            let s = i / e, end = min(r.upperBound, (s + 1) * e), f = factor[s]
            while i < end { out[i] = f * x[i]; i += 1 }
        }
    }
}

/// dx[B, E] += factor[B] ⊙ dout[B, E]  (the forward's mask)
@inline(__always)
func dropPathBackward(_ dx: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ factor: UnsafePointer<Float>,
                      b: Int, e: Int) {
    parallelFor(b * e, minChunk: 1 << 16) { r in
        var i = r.lowerBound
        while i < r.upperBound {
            let s = i / e, end = min(r.upperBound, (s + 1) * e), f = factor[s]
            while i < end { dx[i] += f * dout[i]; i += 1 }
        }
    }
}

/// Drops whole samples of a residual branch with probability `rate`, scaling the kept ones by
/// 1/(1 − rate). One uniform draw per sample from `rng` (kept when < 1 − rate). Rate 0 returns
/// `x` itself and draws nothing; rate 1 drops everything (as timm).
public func dropPath(_ x: Variable, rate: Float, rng: inout RNG) -> Variable {
    precondition(rate >= 0 && rate <= 1, "dropPath: rate \(rate) outside [0, 1]")
    if rate == 0 { return x }
    precondition(x.shape.count >= 1, "dropPath: x needs a batch axis, got \(x.shape)")
    let b = x.shape[0], e = b > 0 ? x.count / b : 0
    let keep = 1 - rate
    let factor = Tensor(uninitialized: [b])
    let scale: Float = keep > 0 ? 1 / keep : 0
    for i in 0..<b { factor.data[i] = rng.uniform() < keep ? scale : 0 }
    let out = Tensor(uninitialized: x.shape)
    dropPathForward(out.data, x.value.data, factor.data, b: b, e: e)
    return Tape.record(out, inputs: [x]) { o in
        dropPathBackward(x.gradBuffer().data, o.grad!.data, factor.data, b: b, e: e)
    }
}
