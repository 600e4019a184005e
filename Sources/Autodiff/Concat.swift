import TensorCore

// concat: 1-D vectors end to end
//   xs[k]: [n_k]
//   out:   [Σ n_k];  out[o_k + i] = xs[k][i],  o_k = Σ_{j<k} n_j
// (builds the qkv bias from q_bias, zeros, v_bias; constant inputs simply get no gradient)

/// out[S] at offset `offset` ← x[n]
@inline(__always)
func concatForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, n: Int, offset: Int) {
    (out + offset).update(from: x, count: n)
}

/// dx[n] += dout[S] at offset `offset`
@inline(__always)
func concatBackward(_ dx: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, n: Int, offset: Int) {
    Kernels.addInPlace(dx, dout + offset, n)
}

/// Concatenates 1-D vectors: [a], [b], [c] → [a + b + c].
public func concat(_ xs: [Variable]) -> Variable {
    precondition(!xs.isEmpty, "concat: no inputs")
    precondition(xs.allSatisfy { $0.shape.count == 1 }, "concat: inputs must be 1-D, got \(xs.map(\.shape))")
    let ns = xs.map { $0.count }
    var offsets: [Int] = []
    var acc = 0
    for n in ns { offsets.append(acc); acc += n }
    let out = Tensor(uninitialized: [acc])
    for k in xs.indices { concatForward(out.data, xs[k].value.data, n: ns[k], offset: offsets[k]) }
    return Tape.record(out, inputs: xs) { o in
        let g = o.grad!.data
        for k in xs.indices where xs[k].requiresGrad {
            concatBackward(xs[k].gradBuffer().data, g, n: ns[k], offset: offsets[k])
        }
    }
}
