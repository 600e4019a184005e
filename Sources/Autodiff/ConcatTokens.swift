import TensorCore

// concatTokens: concatenation along axis 1
//   xs[k]: [B, n_k, D]
//   out:   [B, S, D],  S = Σ n_k;  out[b, o_k + i, :] = xs[k][b, i, :],  o_k = Σ_{j<k} n_j

/// out[B, S, D] at token offset `offset` ← x[B, n, D]
@inline(__always)
func concatTokensForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                         b: Int, n: Int, d: Int, total: Int, offset: Int) {
    let block = n * d
    parallelFor(b, minChunk: max(1, 32768 / max(block, 1))) { r in
        for s in r { (out + (s * total + offset) * d).update(from: x + s * block, count: block) }
    }
}

/// dx[B, n, D] += dout[B, S, D] at token offset `offset`
@inline(__always)
func concatTokensBackward(_ dx: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                          b: Int, n: Int, d: Int, total: Int, offset: Int) {
    let block = n * d
    parallelFor(b, minChunk: max(1, 32768 / max(block, 1))) { r in
        for s in r {
            let g = dout + (s * total + offset) * d, t = dx + s * block
            for j in 0..<block { t[j] += g[j] }
        }
    }
}

/// Concatenates [B, n_k, D] tensors along the token axis → [B, Σ n_k, D].
public func concatTokens(_ xs: [Variable]) -> Variable {
    precondition(!xs.isEmpty, "concatTokens: no inputs")
    precondition(xs.allSatisfy { $0.shape.count == 3 }, "concatTokens: inputs must be [B, n, D], got \(xs.map(\.shape))")
    let b = xs[0].shape[0], d = xs[0].shape[2]
    precondition(xs.allSatisfy { $0.shape[0] == b && $0.shape[2] == d }, "concatTokens: mismatched shapes \(xs.map(\.shape))")
    let ns = xs.map { $0.shape[1] }
    let total = ns.reduce(0, +)
    var offsets: [Int] = []
    var acc = 0
    for n in ns { offsets.append(acc); acc += n }
    let out = Tensor(uninitialized: [b, total, d])
    for k in xs.indices {
        concatTokensForward(out.data, xs[k].value.data, b: b, n: ns[k], d: d, total: total, offset: offsets[k])
    }
    return Tape.record(out, inputs: xs) { o in
        let g = o.grad!.data
        for k in xs.indices where xs[k].requiresGrad {
            concatTokensBackward(xs[k].gradBuffer().data, g, b: b, n: ns[k], d: d, total: total, offset: offsets[k])
        }
    }
}
