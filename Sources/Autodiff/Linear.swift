import TensorCore

// linear: y = x · Wᵀ + b  (PyTorch's nn.Linear; W is [out, in])
// The three GEMMs run in `BLAS.precision` (bf16 operands with fp32 accumulation in mixed precision).
//   x: [..., in]  (leading dims flattened to M rows)
//   w: [out, in]
//   b: [out] or nil
//   y: [..., out]

/// y[M, out] = x[M, in] · w[out, in]ᵀ + b[out]
@inline(__always)
func linearForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                   _ b: UnsafePointer<Float>?, m: Int, inF: Int, outF: Int) {
    BLAS.gemmMixed(transB: true, m: m, n: outF, k: inF, x, w, y)
    if let b { Kernels.addRowVector(y, b, rows: m, n: outF) }
}

/// dx[M, in] += dy[M, out] · w[out, in]  (= when `dxFresh`: dx holds garbage);
/// dw[out, in] += dy[M, out]ᵀ · x[M, in]  (= when `dwFresh`);  db[out] += Σ_rows dy
@inline(__always)
func linearBackward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                    dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?,
                    m: Int, inF: Int, outF: Int, dxFresh: Bool = false, dwFresh: Bool = false) {
    if let dx { BLAS.gemmMixed(m: m, n: inF, k: outF, dy, w, beta: dxFresh ? 0 : 1, dx) }
    if let dw { BLAS.gemmMixed(transA: true, m: outF, n: inF, k: m, dy, x, beta: dwFresh ? 0 : 1, dw) }
    if let db { Kernels.sumRowsAccumulate(dy, rows: m, n: outF, into: db) }
}

/// y = x · wᵀ + b over the last axis of x.
public func linear(_ x: Variable, _ w: Variable, _ b: Variable?) -> Variable {
    let inF = x.shape.last!, outF = w.shape[0]
    precondition(w.shape == [outF, inF], "linear: weight \(w.shape) for input \(x.shape)")
    if let b { precondition(b.shape == [outF], "linear: bias \(b.shape) for \(outF) outputs") }
    let m = x.count / inF
    let y = Tensor(uninitialized: Array(x.shape.dropLast()) + [outF])
    linearForward(y.data, x.value.data, w.value.data, b?.value.data, m: m, inF: inF, outF: outF)
    return Tape.record(y, inputs: [x, w, b]) { out in
        // dx and dw are written whole: no zero-fill when fresh (dw is fresh after zeroGrad)
        let dx = x.requiresGrad ? x.gradBufferToWrite() : nil
        let dw = w.requiresGrad ? w.gradBufferToWrite() : nil
        linearBackward(dy: out.grad!.data, x: x.value.data, w: w.value.data,
                       dx: dx?.buffer.data, dw: dw?.buffer.data,
                       db: b?.requiresGrad == true ? b!.gradBuffer().data : nil,
                       m: m, inF: inF, outF: outF, dxFresh: dx?.fresh ?? false, dwFresh: dw?.fresh ?? false)
    }
}
