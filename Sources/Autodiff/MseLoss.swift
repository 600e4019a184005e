import TensorCore

// mseLoss: L = (1/M) Σ_i (pred[i] − target[i])²   (PyTorch's MSELoss, reduction "mean")
//   pred, target: [...] same shape, M elements;  L: [] (scalar)
//   dL/dpred[i] = (2/M) (pred[i] − target[i]);  target is a constant

/// Σ (pred − target)² in double: float SIMD accumulators over blocks, blocks summed in double,
/// a fixed split into parts (so the result does not depend on scheduling).
func mseLossForward(_ pred: UnsafePointer<Float>, _ target: UnsafePointer<Float>, count m: Int) -> Double {
    let parts = max(1, min(Threads.count, m / 65536))
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: parts)
    defer { partial.deallocate() }
    let per = (m + parts - 1) / parts
    parallelFor(parts, minChunk: 1) { r in
        for part in r {
            let lo = part * per, hi = min(m, lo + per)
            var total: Double = 0
            var i = lo
            while i < hi {
                let end = min(hi, i + 1024)
                var acc = SIMD8<Float>(repeating: 0)
                while i + 8 <= end {
                    let a = UnsafeRawPointer(pred + i).loadUnaligned(as: SIMD8<Float>.self)
                    let t = UnsafeRawPointer(target + i).loadUnaligned(as: SIMD8<Float>.self)
                    let e = a - t
                    acc += e * e
                    i += 8
                }
                var s = Double(acc.sum())
                while i < end { let e = pred[i] - target[i]; s += Double(e * e); i += 1 }
                total += s
            }
            partial[part] = total
        }
    }
    var s: Double = 0
    for part in 0..<parts { s += partial[part] }
    return s
}

/// dpred[M] += scale · (pred[M] − target[M]),  scale = 2·dL/M
@inline(__always)
func mseLossBackward(_ dpred: UnsafeMutablePointer<Float>, _ pred: UnsafePointer<Float>, _ target: UnsafePointer<Float>,
                     count m: Int, scale: Float) {
    parallelFor(m, minChunk: 1 << 16) { r in
        for i in r { dpred[i] += scale * (pred[i] - target[i]) }
    }
}

/// Mean squared error over all elements, a scalar of shape [].
public func mseLoss(_ pred: Variable, _ target: Tensor) -> Variable {
    precondition(pred.shape == target.shape, "mseLoss: pred \(pred.shape) vs target \(target.shape)")
    let m = pred.count
    let loss = Tensor(uninitialized: [])
    loss.data[0] = Float(mseLossForward(pred.value.data, target.data, count: m) / Double(m))
    return Tape.record(loss, inputs: [pred]) { o in
        let g = o.grad!.data[0]
        mseLossBackward(pred.gradBuffer().data, pred.value.data, target.data, count: m, scale: 2 * g / Float(m))
    }
}
