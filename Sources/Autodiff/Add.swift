import TensorCore

// add: out = a + b, with b broadcast over the leading axes of a
//   a:   [..., S]   (rows = a.count / b.count copies of S)
//   b:   S          (b.shape, leading 1s ignored, is a suffix of a.shape, or equal to it)
//   out: a.shape

/// How many times b repeats inside a when b broadcasts over a's leading axes (b's shape, leading
/// 1s dropped, equals a suffix of a's shape), or nil when the shapes do not broadcast that way.
/// Shared by `add` and `mul`. b may not have more axes than a.
public func broadcastRows(_ a: [Int], _ b: [Int]) -> Int? {
    guard b.count <= a.count else { return nil }
    let bs = Array(b.drop(while: { $0 == 1 }))
    guard Array(a.suffix(bs.count)) == bs else { return nil }
    let inner = bs.reduce(1, *)
    return inner == 0 ? 0 : a.reduce(1, *) / inner
}

/// out[r, j] = a[r, j] + b[j]                       a, out: [rows, n], b: [n]
@inline(__always)
func addForward(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                rows: Int, n: Int) {
    if rows == 1 { Kernels.add(a, b, out, n); return }
    parallelFor(rows, minChunk: max(1, 16384 / max(n, 1))) { r in
        for i in r {
            let ar = a + i * n, orow = out + i * n
            for j in 0..<n { orow[j] = ar[j] + b[j] }
        }
    }
}

/// da[r, j] += dout[r, j];  db[j] += Σ_r dout[r, j]  dout, da: [rows, n], db: [n]
@inline(__always)
func addBackward(dout: UnsafePointer<Float>, da: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?,
                 rows: Int, n: Int) {
    if let da { Kernels.addInPlace(da, dout, rows * n) }
    if let db {
        if rows == 1 { Kernels.addInPlace(db, dout, n) }
        else { Kernels.sumRowsAccumulate(dout, rows: rows, n: n, into: db) }
    }
}

/// a + b elementwise; b may be broadcast over a's leading axes ([B,N,D] + [D], [B,N,D] + [N,D],
/// [B,N,D] + [1,N,D]). The result has a's shape; b's gradient is summed over the repeats.
public func add(_ a: Variable, _ b: Variable) -> Variable {
    guard let rows = broadcastRows(a.shape, b.shape) else {
        preconditionFailure("add: \(b.shape) does not broadcast over \(a.shape)")
    }
    let n = b.count
    let out = Tensor(uninitialized: a.shape)
    addForward(out.data, a.value.data, b.value.data, rows: rows, n: n)
    return Tape.record(out, inputs: [a, b]) { o in
        addBackward(dout: o.grad!.data,
                    da: a.requiresGrad ? a.gradBuffer().data : nil,
                    db: b.requiresGrad ? b.gradBuffer().data : nil,
                    rows: rows, n: n)
    }
}
