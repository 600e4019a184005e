import TensorCore

// regroupTokens: swaps the two token axes of x read as [B, X, Y, D] (one copy, no other work)
//   x:   any shape holding B·X·Y·D elements, read row-major as [B, X, Y, D]
//   out: the [B, Y, X, D] elements, under the shape asked for:  out[b, y, x, :] = x[b, x, y, :]
// backward: dx[b, x, y, :] += dout[b, y, x, :]   (the same swap, accumulated)
//
// Divided space-time attention uses it both ways on time-major tokens n = g·S + s:
//   [B, G·S, D] (X = G, Y = S) → [B·S, G, D]: one sequence of G tokens per spatial position;
//   [B·S, G, D] (X = S, Y = G) → [B, G·S, D]: back to time-major.

/// out[b, y, x, :] = x[b, x, y, :]                 x: [B, X, Y, D], out: [B, Y, X, D]
/// One output run of X·D floats per (b, y); the runs are split over the cores.
@inline(__always)
func regroupTokensForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                          b: Int, rows: Int, cols: Int, d: Int) {
    parallelFor(b * cols, minChunk: max(1, 16384 / max(rows * d, 1))) { r in
        for by in r {
            let bi = by / cols, y = by % cols
            let dst = out + by * rows * d
            let src = x + (bi * rows * cols + y) * d
            for xi in 0..<rows {
                (dst + xi * d).update(from: src + xi * cols * d, count: d)
            }
        }
    }
}

/// dx[b, x, y, :] += dout[b, y, x, :]              dout: [B, Y, X, D], dx: [B, X, Y, D]
/// Split over (b, x): each item owns the contiguous run dx[b, x, :, :], so no two write alike.
@inline(__always)
func regroupTokensBackward(_ dx: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                           b: Int, rows: Int, cols: Int, d: Int) {
    parallelFor(b * rows, minChunk: max(1, 16384 / max(cols * d, 1))) { r in
        for bx in r {
            let bi = bx / rows, xi = bx % rows
            let dst = dx + bx * cols * d
            let src = dout + (bi * cols * rows + xi) * d
            for y in 0..<cols {
                let t = dst + y * d, s = src + y * rows * d
                for j in 0..<d { t[j] += s[j] }
            }
        }
    }
}

/// The error in a regroup request, or nil when x's elements divide into [batch, rows, cols, D]
/// with D ≥ 1 and `shape` holds the same count.
public func regroupTokensShapeError(_ xShape: [Int], batch: Int, rows: Int, cols: Int, as shape: [Int]) -> String? {
    let count = xShape.reduce(1, *), outer = batch * rows * cols
    if batch < 1 || rows < 1 || cols < 1 { return "regroupTokens: batch \(batch), rows \(rows), cols \(cols) must be ≥ 1" }
    if count == 0 || count % outer != 0 {
        return "regroupTokens: x \(xShape) does not divide into [\(batch), \(rows), \(cols), D]"
    }
    if shape.reduce(1, *) != count { return "regroupTokens: shape \(shape) does not hold the \(count) elements of x \(xShape)" }
    return nil
}

/// Swaps the two token axes of x read as [batch, rows, cols, D] (D = x.count / (batch·rows·cols))
/// and returns the [batch, cols, rows, D] result under `shape` (same element count).
/// Time-major tokens [B, G·S, D] → per-position sequences [B·S, G, D]:
/// `regroupTokens(x, batch: B, rows: G, cols: S, as: [B·S, G, D])`; and back with rows S, cols G.
public func regroupTokens(_ x: Variable, batch: Int, rows: Int, cols: Int, as shape: [Int]) -> Variable {
    if let e = regroupTokensShapeError(x.shape, batch: batch, rows: rows, cols: cols, as: shape) { preconditionFailure(e) }
    let d = x.count / (batch * rows * cols)
    let out = Tensor(uninitialized: shape)
    regroupTokensForward(out.data, x.value.data, b: batch, rows: rows, cols: cols, d: d)
    return Tape.record(out, inputs: [x]) { o in
        regroupTokensBackward(x.gradBuffer().data, o.grad!.data, b: batch, rows: rows, cols: cols, d: d)
    }
}
