import Foundation
import TensorCore

/// The reconstruction target of the masked tokens (the design's "Loss", steps 1–4):
///   pixels  [B, T, C, H, W] normalized input
///   returns [B, nm, t·p·p·C], row of token n in the decoder head's order ((dt·p+dy)·p+dx)·C + c,
///   of the un-normalized pixels x = v·std + mean, each (token, channel) normalized over its
///   t·p·p pixels by (x − mean)/(sqrt(var_unbiased) + 1e-6) when `normalize`.
public func pixelTargets(_ pixels: Tensor, tokens index: [[Int]], tubelet t: Int, patch p: Int,
                         mean: [Float], std: [Float], normalize: Bool) -> Tensor {
    let (B, T, C, H, W) = (pixels.shape[0], pixels.shape[1], pixels.shape[2], pixels.shape[3], pixels.shape[4])
    precondition(mean.count == C && std.count == C, "mean/std need \(C) channels")
    let hp = H / p, wp = W / p, ns = hp * wp
    let nm = index.first?.count ?? 0
    let tpp = t * p * p
    let row = tpp * C
    let out = Tensor(uninitialized: [B, nm, row])
    let src = pixels.data, dst = out.data
    let flat: [Int32] = index.flatMap { $0.map(Int32.init) }
    flat.withUnsafeBufferPointer { idx in
        let ip = idx.baseAddress!
        parallelFor(B * nm, minChunk: 8) { range in
            for r in range {
                let b = r / nm
                let n = Int(ip[r])
                let g = n / ns, y = (n % ns) / wp, x = n % wp
                let o = dst + r * row
                for c in 0..<C {
                    let m = mean[c], s = std[c]
                    var sum: Double = 0
                    for dt in 0..<t {
                        for dy in 0..<p {
                            let base = (((b * T + g * t + dt) * C + c) * H + y * p + dy) * W + x * p
                            for dx in 0..<p {
                                let v = src[base + dx] * s + m
                                o[((dt * p + dy) * p + dx) * C + c] = v
                                sum += Double(v)
                            }
                        }
                    }
                    if normalize {
                        let mu = sum / Double(tpp)
                        var ss: Double = 0
                        for k in 0..<tpp { let d = Double(o[k * C + c]) - mu; ss += d * d }
                        let sd = (ss / Double(max(tpp - 1, 1))).squareRoot()
                        let inv = 1 / (sd + 1e-6)
                        for k in 0..<tpp { o[k * C + c] = Float((Double(o[k * C + c]) - mu) * inv) }
                    }
                }
            }
        }
    }
    return out
}

/// ImageNet statistics, the original's default input normalization.
public let imagenetMean: [Float] = [0.485, 0.456, 0.406]
public let imagenetStd: [Float] = [0.229, 0.224, 0.225]
