import Foundation
import TensorCore

// layernorm over the last axis (PyTorch's nn.LayerNorm, biased variance), as llm.c's
// layernorm_forward / layernorm_backward
//   x:      [..., C]   (leading dims flattened to R rows)
//   weight: [C]
//   bias:   [C]
//   out:    [..., C]
//   mean:   [R]   saved for backward
//   rstd:   [R]   saved for backward: 1 / sqrt(var + eps)

/// out[r, :] = (x[r, :] − mean[r]) · rstd[r] · w + b      x, out: [R, C], w, b: [C], mean, rstd: [R]
@inline(__always)
func layerNormForward(_ out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                      _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                      rows: Int, c: Int, eps: Float) {
    parallelFor(rows, minChunk: max(1, 16384 / max(c, 1))) { range in
        for r in range {
            let xr = x + r * c, orow = out + r * c
            let m = VecMath.sum(xr, c) / Float(c)
            // two-pass variance: Σ(x − m)² loses nothing to cancellation
            let v = VecMath.sumSquaredDeviations(xr, m, c) / Float(c)
            let s = 1 / (v + eps).squareRoot()
            for j in 0..<c { orow[j] = (xr[j] - m) * s * w[j] + b[j] }
            mean[r] = m
            rstd[r] = s
        }
    }
}

/// With n = (x − mean)·rstd and g = dout ⊙ w (per row):
///   dx[r, :] += (g − mean(g) − n · mean(g ⊙ n)) · rstd[r]
///   dw[:]    += Σ_r dout[r, :] ⊙ n[r, :]
///   db[:]    += Σ_r dout[r, :]
/// dout, x, dx: [R, C], w, dw, db: [C], mean, rstd: [R]. dw and db are summed per worker in a
/// scratch [workers, 2, C] and added at the end, so the rows are read once.
func layerNormBackward(dout: UnsafePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                       mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                       dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?,
                       rows: Int, c: Int) {
    if rows == 0 || c == 0 { return }
    let needParams = dw != nil || db != nil
    let workers = min(Threads.count, max(1, rows * c / 32768), rows)
    let chunk = (rows + workers - 1) / workers
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: needParams ? workers * 2 * c : 1)
    defer { scratch.deallocate() }
    if needParams { scratch.initialize(repeating: 0, count: workers * 2 * c) }
    let invC = 1 / Float(c)
    let body = { (wk: Int) in
        let lo = wk * chunk, hi = min(rows, lo + chunk)
        if lo >= hi { return }
        let pdw = scratch + wk * 2 * c, pdb = pdw + c
        for r in lo..<hi {
            let xr = x + r * c, gr = dout + r * c
            let m = mean[r], s = rstd[r]
            // the two row reductions of llm.c: mean(g) and mean(g ⊙ n)
            var sgv = VecMath.V(repeating: 0), sgnv = VecMath.V(repeating: 0)
            let mv = VecMath.V(repeating: m), sv = VecMath.V(repeating: s)
            var j = 0
            while j + 8 <= c {
                let n = (VecMath.load(xr + j) - mv) * sv
                let g = VecMath.load(w + j) * VecMath.load(gr + j)
                sgv += g
                sgnv += g * n
                j += 8
            }
            var sg = VecMath.hsum(sgv), sgn = VecMath.hsum(sgnv)
            while j < c {
                let n = (xr[j] - m) * s
                let g = w[j] * gr[j]
                sg += g
                sgn += g * n
                j += 1
            }
            let mg = sg * invC, mgn = sgn * invC
            if needParams {
                for j in 0..<c {
                    let n = (xr[j] - m) * s
                    pdb[j] += gr[j]
                    pdw[j] += n * gr[j]
                }
            }
            if let dx {
                let dxr = dx + r * c
                for j in 0..<c {
                    let n = (xr[j] - m) * s
                    dxr[j] += (w[j] * gr[j] - mg - n * mgn) * s
                }
            }
        }
    }
    if workers == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: body) }
    if needParams {
        for wk in 0..<workers {
            let pdw = scratch + wk * 2 * c, pdb = pdw + c
            if let dw { for j in 0..<c { dw[j] += pdw[j] } }
            if let db { for j in 0..<c { db[j] += pdb[j] } }
        }
    }
}

/// Layer normalization over the last axis: (x − mean) / sqrt(var + eps) · weight + bias, with the
/// biased variance (as PyTorch).
public func layerNorm(_ x: Variable, weight: Variable, bias: Variable, eps: Float) -> Variable {
    precondition(x.shape.count >= 1, "layerNorm: input must have at least one axis, got \(x.shape)")
    let c = x.shape.last!
    precondition(weight.shape == [c] && bias.shape == [c],
                 "layerNorm: weight \(weight.shape) and bias \(bias.shape) for input \(x.shape) (need [\(c)])")
    let rows = c == 0 ? 0 : x.count / c
    let out = Tensor(uninitialized: x.shape)
    let mean = Tensor(uninitialized: [rows]), rstd = Tensor(uninitialized: [rows])
    layerNormForward(out.data, mean: mean.data, rstd: rstd.data, x.value.data, weight.value.data, bias.value.data,
                     rows: rows, c: c, eps: eps)
    return Tape.record(out, inputs: [x, weight, bias]) { o in
        layerNormBackward(dout: o.grad!.data, x: x.value.data, w: weight.value.data, mean: mean.data, rstd: rstd.data,
                          dx: x.requiresGrad ? x.gradBuffer().data : nil,
                          dw: weight.requiresGrad ? weight.gradBuffer().data : nil,
                          db: bias.requiresGrad ? bias.gradBuffer().data : nil,
                          rows: rows, c: c)
    }
}
