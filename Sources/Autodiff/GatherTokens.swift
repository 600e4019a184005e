import TensorCore

// gatherTokens: out[b, i, :] = x[b, index[b, i], :]
//   x:     [B, N, D]
//   index: [B, n]  Int32, each in 0..<N (may repeat)
//   out:   [B, n, D]

/// out[B, n, D] ← x[B, N, D] at idx[B, n]
@inline(__always)
func gatherTokensForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ idx: UnsafePointer<Int32>,
                         b: Int, nSrc: Int, n: Int, d: Int) {
    parallelFor(b * n, minChunk: max(1, 16384 / max(d, 1))) { r in
        for row in r {
            let s = row / n
            let src = x + (s * nSrc + Int(idx[row])) * d
            (out + row * d).update(from: src, count: d)
        }
    }
}

/// dx[B, N, D] += scatter of dout[B, n, D] to rows idx[B, n] (repeats add up).
/// Split over samples: different samples never write the same rows of dx.
@inline(__always)
func gatherTokensBackward(_ dx: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ idx: UnsafePointer<Int32>,
                          b: Int, nSrc: Int, n: Int, d: Int) {
    parallelFor(b, minChunk: max(1, 16384 / max(n * d, 1))) { r in
        for s in r {
            for i in 0..<n {
                let g = dout + (s * n + i) * d
                let t = dx + (s * nSrc + Int(idx[s * n + i])) * d
                for j in 0..<d { t[j] += g[j] }
            }
        }
    }
}

/// Picks tokens per sample: x [B, N, D] → [B, n, D] with out[b, i] = x[b, index[b, i]].
public func gatherTokens(_ x: Variable, _ index: TokenIndex) -> Variable {
    precondition(x.shape.count == 3, "gatherTokens: x must be [B, N, D], got \(x.shape)")
    let b = x.shape[0], nSrc = x.shape[1], d = x.shape[2]
    precondition(index.batch == b && index.sourceTokens == nSrc,
                 "gatherTokens: index [\(index.batch), \(index.count)] into \(index.sourceTokens) tokens for x \(x.shape)")
    let n = index.count
    let out = Tensor(uninitialized: [b, n, d])
    gatherTokensForward(out.data, x.value.data, index.pointer, b: b, nSrc: nSrc, n: n, d: d)
    return Tape.record(out, inputs: [x]) { o in
        gatherTokensBackward(x.gradBuffer().data, o.grad!.data, index.pointer, b: b, nSrc: nSrc, n: n, d: d)
    }
}
