import TensorCore

// meanTokens: out[b, :] = (1/N) Σ_n x[b, n, :]
//   x:   [B, N, D]
//   out: [B, D]

/// out[B, D] = mean over N of x[B, N, D]. Split over columns: threads never share an output.
@inline(__always)
func meanTokensForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, b: Int, n: Int, d: Int) {
    let inv = n > 0 ? 1 / Float(n) : Float.nan   // mean of nothing is NaN, as torch.mean
    parallelFor(d, minChunk: max(16, 65536 / max(b * n, 1))) { cr in
        for s in 0..<b {
            let o = out + s * d
            for j in cr { o[j] = 0 }
            for t in 0..<n {
                let row = x + (s * n + t) * d
                for j in cr { o[j] += row[j] }
            }
            for j in cr { o[j] *= inv }
        }
    }
}

/// dx[B, N, D] += dout[B, D] / N
@inline(__always)
func meanTokensBackward(_ dx: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, b: Int, n: Int, d: Int) {
    let inv = 1 / Float(n)
    parallelFor(b * n, minChunk: max(1, 16384 / max(d, 1))) { r in
        for row in r {
            let g = dout + (row / n) * d, t = dx + row * d
            for j in 0..<d { t[j] += inv * g[j] }
        }
    }
}

/// Mean over the token axis: [B, N, D] → [B, D].
public func meanTokens(_ x: Variable) -> Variable {
    precondition(x.shape.count == 3, "meanTokens: x must be [B, N, D], got \(x.shape)")
    let b = x.shape[0], n = x.shape[1], d = x.shape[2]
    let out = Tensor(uninitialized: [b, d])
    meanTokensForward(out.data, x.value.data, b: b, n: n, d: d)
    return Tape.record(out, inputs: [x]) { o in
        meanTokensBackward(x.gradBuffer().data, o.grad!.data, b: b, n: n, d: d)
    }
}
