import TensorCore

// softmax over the last axis, numerically stable (max subtracted)
//   x, out: [..., C]   (leading dims flattened to R rows)
//   backward uses out itself: dx = out ⊙ (dout − Σ_j dout ⊙ out)

/// out[r, :] = exp(x[r, :] − max) / Σ exp(x[r, :] − max)       x, out: [R, C]
@inline(__always)
func softmaxForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, c: Int) {
    parallelFor(rows, minChunk: max(1, 8192 / max(c, 1))) { range in
        for r in range {
            (out + r * c).update(from: x + r * c, count: c)
            VecMath.softmaxRowInPlace(out + r * c, c)
        }
    }
}

/// dx[r, :] += y[r, :] ⊙ (dout[r, :] − Σ_j dout[r, j] · y[r, j])   y, dout, dx: [R, C]
@inline(__always)
func softmaxBackward(dout: UnsafePointer<Float>, y: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int, c: Int) {
    parallelFor(rows, minChunk: max(1, 8192 / max(c, 1))) { range in
        for r in range {
            VecMath.softmaxBackwardRowAccumulate(y: y + r * c, dy: dout + r * c, dx: dx + r * c, c)
        }
    }
}

/// Softmax over the last axis.
public func softmax(_ x: Variable) -> Variable {
    precondition(x.shape.count >= 1, "softmax: input must have at least one axis, got \(x.shape)")
    let c = x.shape.last!
    let rows = c == 0 ? 0 : x.count / c
    let out = Tensor(uninitialized: x.shape)
    softmaxForward(out.data, x.value.data, rows: rows, c: c)
    return Tape.record(out, inputs: [x]) { o in
        softmaxBackward(dout: o.grad!.data, y: out.data, dx: x.gradBuffer().data, rows: rows, c: c)
    }
}
