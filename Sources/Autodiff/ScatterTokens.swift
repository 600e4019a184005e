import TensorCore

// scatterTokens: the inverse placement of gatherTokens
//   x:     [B, n, D]
//   index: [B, n]  Int32, each in 0..<N
//   out:   [B, N, D], out[b, index[b, i], :] += x[b, i, :], zero elsewhere
// Forward is gather's backward kernel (scatter-add into zeros); backward gathers.

/// dx[B, n, D] += dout[B, N, D] at idx[B, n]
@inline(__always)
func scatterTokensBackward(_ dx: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ idx: UnsafePointer<Int32>,
                           b: Int, nDst: Int, n: Int, d: Int) {
    parallelFor(b * n, minChunk: max(1, 16384 / max(d, 1))) { r in
        for row in r {
            let s = row / n
            let g = dout + (s * nDst + Int(idx[row])) * d
            let t = dx + row * d
            for j in 0..<d { t[j] += g[j] }
        }
    }
}

/// Places tokens per sample: x [B, n, D] → [B, N, D] with out[b, index[b, i]] = x[b, i]
/// (repeated indices add up; tokens not named are zero).
public func scatterTokens(_ x: Variable, _ index: TokenIndex) -> Variable {
    precondition(x.shape.count == 3, "scatterTokens: x must be [B, n, D], got \(x.shape)")
    let b = x.shape[0], n = x.shape[1], d = x.shape[2]
    precondition(index.batch == b && index.count == n,
                 "scatterTokens: index [\(index.batch), \(index.count)] for x \(x.shape)")
    let nDst = index.sourceTokens
    let out = Tensor(zeros: [b, nDst, d])
    gatherTokensBackward(out.data, x.value.data, index.pointer, b: b, nSrc: nDst, n: n, d: d)
    return Tape.record(out, inputs: [x]) { o in
        scatterTokensBackward(x.gradBuffer().data, o.grad!.data, index.pointer, b: b, nDst: nDst, n: n, d: d)
    }
}
