import TensorCore

// mul: out = a ⊙ b, with b broadcast over the leading axes of a (the rule of `add`)
//   a:   [..., S]   (rows = a.count / b.count copies of S)
//   b:   S
//   out: a.shape

/// out[r, j] = a[r, j] · b[j]                       a, out: [rows, n], b: [n]
@inline(__always)
func mulForward(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                rows: Int, n: Int) {
    parallelFor(rows * n, minChunk: 1 << 16) { range in
        if rows == 1 {
            for i in range { out[i] = a[i] * b[i] }
        } else {
            // rows split across chunks: walk the chunk a row piece at a time
            var i = range.lowerBound
            while i < range.upperBound {
                let j0 = i % n, len = min(n - j0, range.upperBound - i)
                let ap = a + i, op = out + i, bp = b + j0
                for j in 0..<len { op[j] = ap[j] * bp[j] }
                i += len
            }
        }
    }
}

/// da[r, j] += dout[r, j] · b[j]                    dout, a, da: [rows, n], b: [n]
/// db[j]    += Σ_r dout[r, j] · a[r, j]             db: [n]
@inline(__always)
func mulBackward(dout: UnsafePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                 da: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?, rows: Int, n: Int) {
    if let da {
        parallelFor(rows * n, minChunk: 1 << 16) { range in
            var i = range.lowerBound
            while i < range.upperBound {
                let j0 = i % n, len = min(n - j0, range.upperBound - i)
                let gp = dout + i, dp = da + i, bp = b + j0
                for j in 0..<len { dp[j] += gp[j] * bp[j] }
                i += len
            }
        }
    }
    if let db {
        // split over columns so no two threads write the same db[j]
        parallelFor(n, minChunk: max(64, (1 << 16) / max(rows, 1))) { cr in
            let lo = cr.lowerBound, len = cr.count
            let dp = db + lo
            for r in 0..<rows {
                let gp = dout + r * n + lo, ap = a + r * n + lo
                for j in 0..<len { dp[j] += gp[j] * ap[j] }
            }
        }
    }
}

/// a ⊙ b elementwise, b broadcast over a's leading axes as in `add`.
public func mul(_ a: Variable, _ b: Variable) -> Variable {
    guard let rows = broadcastRows(a.shape, b.shape) else {
        preconditionFailure("mul: \(b.shape) does not broadcast over \(a.shape)")
    }
    let n = b.count
    let out = Tensor(uninitialized: a.shape)
    if n > 0 { mulForward(out.data, a.value.data, b.value.data, rows: rows, n: n) }
    return Tape.record(out, inputs: [a, b]) { o in
        if n == 0 { return }
        mulBackward(dout: o.grad!.data, a: a.value.data, b: b.value.data,
                    da: a.requiresGrad ? a.gradBuffer().data : nil,
                    db: b.requiresGrad ? b.gradBuffer().data : nil,
                    rows: rows, n: n)
    }
}
