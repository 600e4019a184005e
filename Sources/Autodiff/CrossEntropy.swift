import Foundation
import TensorCore

// crossEntropy with label smoothing (PyTorch's CrossEntropyLoss(label_smoothing=s), reduction "mean")
//   logits: [B, K];  labels: [B] Int32 in 0..<K;  L: [] (scalar)
//   q[b, k] = (1 − s)·[k == y_b] + s/K
//   L = (1/B) Σ_b −Σ_k q[b, k] · log softmax(logits[b])_k
//     = (1/B) Σ_b ( lse_b − (1 − s)·z[b, y_b] − (s/K)·Σ_k z[b, k] ),  lse_b = log Σ_k exp z[b, k]
//   dL/dz[b, k] = (1/B) (softmax[b, k] − q[b, k])

/// probs[B, K] ← softmax(logits[B, K]) per row; losses[B] ← per-row loss (above).
@inline(__always)
func crossEntropyForward(_ probs: UnsafeMutablePointer<Float>, _ losses: UnsafeMutablePointer<Double>,
                         _ logits: UnsafePointer<Float>, _ labels: UnsafePointer<Int32>,
                         b: Int, k: Int, smoothing s: Float) {
    parallelFor(b, minChunk: max(1, 8192 / max(k, 1))) { r in
        for row in r {
            let z = logits + row * k, p = probs + row * k
            var mx = -Float.infinity
            for j in 0..<k { mx = max(mx, z[j]) }
            var sumExp: Double = 0, sumZ: Double = 0
            for j in 0..<k {
                let e = Foundation.exp(z[j] - mx)
                p[j] = e
                sumExp += Double(e)
                sumZ += Double(z[j])
            }
            let inv = Float(1 / sumExp)
            for j in 0..<k { p[j] *= inv }
            let lse = Double(mx) + Foundation.log(sumExp)
            losses[row] = lse - Double(1 - s) * Double(z[Int(labels[row])]) - Double(s) / Double(k) * sumZ
        }
    }
}

/// dlogits[B, K] += scale · (probs[B, K] − q[B, K]),  scale = dL/B
@inline(__always)
func crossEntropyBackward(_ dlogits: UnsafeMutablePointer<Float>, _ probs: UnsafePointer<Float>, _ labels: UnsafePointer<Int32>,
                          b: Int, k: Int, smoothing s: Float, scale: Float) {
    let off = s / Float(k), on = 1 - s + off
    parallelFor(b, minChunk: max(1, 8192 / max(k, 1))) { r in
        for row in r {
            let p = probs + row * k, d = dlogits + row * k
            let y = Int(labels[row])
            for j in 0..<k { d[j] += scale * (p[j] - (j == y ? on : off)) }
        }
    }
}

/// Mean softmax cross-entropy with label smoothing `smoothing` over logits [B, K]; a scalar of shape [].
/// Labels must be in 0..<K (callers check what users hand over).
public func crossEntropy(_ logits: Variable, labels: [Int], smoothing: Float) -> Variable {
    precondition(logits.shape.count == 2, "crossEntropy: logits must be [B, K], got \(logits.shape)")
    let b = logits.shape[0], k = logits.shape[1]
    precondition(labels.count == b, "crossEntropy: \(labels.count) labels for \(b) rows")
    precondition(labels.allSatisfy { $0 >= 0 && $0 < k }, "crossEntropy: labels \(labels) outside 0..<\(k)")
    precondition(smoothing >= 0 && smoothing <= 1, "crossEntropy: smoothing \(smoothing) outside [0, 1]")
    let lab = UnsafeMutablePointer<Int32>.allocate(capacity: max(b, 1))
    for i in 0..<b { lab[i] = Int32(labels[i]) }
    let probs = Tensor(uninitialized: [b, k])
    let losses = UnsafeMutablePointer<Double>.allocate(capacity: max(b, 1))
    crossEntropyForward(probs.data, losses, logits.value.data, lab, b: b, k: k, smoothing: smoothing)
    var total: Double = 0
    for i in 0..<b { total += losses[i] }
    losses.deallocate()
    let loss = Tensor(uninitialized: [])
    loss.data[0] = Float(total / Double(b))
    let labelBox = Int32Buffer(lab)
    return Tape.record(loss, inputs: [logits]) { o in
        let g = o.grad!.data[0]
        crossEntropyBackward(logits.gradBuffer().data, probs.data, labelBox.base, b: b, k: k,
                             smoothing: smoothing, scale: g / Float(b))
    }
}

/// Owns a raw Int32 buffer for as long as a backward closure holds it.
private final class Int32Buffer {
    let base: UnsafeMutablePointer<Int32>
    init(_ base: UnsafeMutablePointer<Int32>) { self.base = base }
    deinit { base.deallocate() }
}
