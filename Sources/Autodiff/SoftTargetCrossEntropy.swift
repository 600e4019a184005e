import Foundation
import TensorCore

// softTargetCrossEntropy (timm's SoftTargetCrossEntropy: the loss of mixup/cutmix fine-tuning)
//   logits: [B, K];  targets: [B, K] (a constant; mixup's rows sum to 1);  L: [] (scalar)
//   L = (1/B) Σ_b Σ_k −t[b, k] · log softmax(z[b])_k
//     = (1/B) Σ_b ( T_b · lse_b − Σ_k t[b, k] · z[b, k] ),  lse_b = log Σ_k exp z[b, k],  T_b = Σ_k t[b, k]
//   dL/dz[b, k] = (1/B) (softmax[b, k] · T_b − t[b, k])      = (softmax − t)/B when every row sums to 1
// With t = (1 − s)·onehot(y) + s/K it is crossEntropy(labels: y, smoothing: s), loss and gradient.

/// probs[B, K] ← softmax(logits[B, K]) per row; losses[B] ← per-row loss; rowSums[B] ← T_b (above).
@inline(__always)
func softTargetCrossEntropyForward(_ probs: UnsafeMutablePointer<Float>, _ losses: UnsafeMutablePointer<Double>,
                                   _ rowSums: UnsafeMutablePointer<Float>,
                                   _ logits: UnsafePointer<Float>, _ targets: UnsafePointer<Float>, b: Int, k: Int) {
    parallelFor(b, minChunk: max(1, 8192 / max(k, 1))) { r in
        for row in r {
            let z = logits + row * k, t = targets + row * k, p = probs + row * k
            var mx = -Float.infinity
            for j in 0..<k { mx = max(mx, z[j]) }
            var sumExp: Double = 0, sumT: Double = 0, sumTZ: Double = 0
            for j in 0..<k {
                let e = Foundation.exp(z[j] - mx)
                p[j] = e
                sumExp += Double(e)
                sumT += Double(t[j])
                sumTZ += Double(t[j]) * Double(z[j])
            }
            let inv = Float(1 / sumExp)
            for j in 0..<k { p[j] *= inv }
            let lse = Double(mx) + Foundation.log(sumExp)
            losses[row] = sumT * lse - sumTZ
            rowSums[row] = Float(sumT)
        }
    }
}

/// dlogits[B, K] += scale · (probs[B, K] · T_b − targets[B, K]),  scale = dL/B
@inline(__always)
func softTargetCrossEntropyBackward(_ dlogits: UnsafeMutablePointer<Float>, _ probs: UnsafePointer<Float>,
                                    _ rowSums: UnsafePointer<Float>, _ targets: UnsafePointer<Float>,
                                    b: Int, k: Int, scale: Float) {
    parallelFor(b, minChunk: max(1, 8192 / max(k, 1))) { r in
        for row in r {
            let p = probs + row * k, t = targets + row * k, d = dlogits + row * k
            let sumT = rowSums[row]
            for j in 0..<k { d[j] += scale * (p[j] * sumT - t[j]) }
        }
    }
}

/// Mean over rows of the cross-entropy between soft targets [B, K] and softmax(logits [B, K]);
/// a scalar of shape []. The targets are a constant (no gradient flows to them).
public func softTargetCrossEntropy(_ logits: Variable, targets: Tensor) -> Variable {
    precondition(logits.shape.count == 2, "softTargetCrossEntropy: logits must be [B, K], got \(logits.shape)")
    precondition(targets.shape == logits.shape, "softTargetCrossEntropy: targets \(targets.shape) vs logits \(logits.shape)")
    let b = logits.shape[0], k = logits.shape[1]
    let probs = Tensor(uninitialized: [b, k])
    let rowSums = Tensor(uninitialized: [b])
    let losses = UnsafeMutablePointer<Double>.allocate(capacity: max(b, 1))
    softTargetCrossEntropyForward(probs.data, losses, rowSums.data, logits.value.data, targets.data, b: b, k: k)
    var total: Double = 0
    for i in 0..<b { total += losses[i] }
    losses.deallocate()
    let loss = Tensor(uninitialized: [])
    loss.data[0] = Float(total / Double(max(b, 1)))
    return Tape.record(loss, inputs: [logits]) { o in
        let g = o.grad!.data[0]
        softTargetCrossEntropyBackward(logits.gradBuffer().data, probs.data, rowSums.data, targets.data,
                                       b: b, k: k, scale: g / Float(max(b, 1)))
    }
}
