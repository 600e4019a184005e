import Foundation
import TensorCore

/// The loss of the trivial predictor, the yardstick of a reconstruction loss: every masked
/// tubelet predicted as the mean colour of the clip's visible pixels, scored exactly as the
/// design's loss scores the model (same masked tokens, same target space, same mean).
///
///   pixels [B, T, C, H, W] normalized input, mask → mean squared error, a scalar
///
/// - Plain-pixel targets (`normalize == false`): with x = v·std + mean and m[b, c] the mean of x
///   over every pixel of the visible tubelets of sample b in channel c,
///   loss = mean over (b, masked token, pixel, c) of (x − m[b, c])².
/// - Normalized targets: the loss puts each (token, channel) of the target through
///   (x − μ)/(σ + 1e-6) with that tubelet's own mean and unbiased std. The trivial prediction
///   put through the same map is a constant tubelet, so μ = m and σ = 0 and it becomes
///   (m − m)/(0 + 1e-6) = 0, whatever m is: normalization takes every constant off. The
///   trivial loss is then the mean of the squared normalized target, (tpp − 1)/tpp for any
///   tubelet that is not flat (0 for a flat one): the "loss 1.0" plateau. Zero is also the best
///   constant there (the normalized target has mean 0), so the yardstick is not a straw man.
///
/// Cheap: one pass over the pixels (the visible ones for m, the masked ones for the error),
/// no tape.
public func meanPredictorLoss(_ pixels: Tensor, mask: Mask, tubelet t: Int, patch p: Int,
                              mean: [Float], std: [Float], normalize: Bool) -> Double {
    let (B, T, C, H, W) = (pixels.shape[0], pixels.shape[1], pixels.shape[2], pixels.shape[3], pixels.shape[4])
    precondition(mean.count == C && std.count == C, "mean/std need \(C) channels")
    precondition(mask.batch == B, "mask does not fit the batch")
    let wp = W / p, ns = (H / p) * wp, tpp = t * p * p
    let nm = mask.decodedCount   // the tokens the loss scores: masked ones, or V2's decoder-kept subset
    guard nm > 0 else { return 0 }
    let src = pixels.data
    let visible = mask.visibleIndex, masked = mask.decodedIndex

    // Σ over the tubelet's pixels of f(x) for token n, channel c of sample b.
    func tubelet(_ b: Int, _ n: Int, _ c: Int, _ f: (Double) -> Void) {
        let g = n / ns, y = (n % ns) / wp, x = n % wp
        let s = std[c], m = mean[c]
        for dt in 0..<t {
            for dy in 0..<p {
                let base = (((b * T + g * t + dt) * C + c) * H + y * p + dy) * W + x * p
                for dx in 0..<p { f(Double(src[base + dx] * s + m)) }   // x in float, as pixelTargets
            }
        }
    }

    var perSample = [Double](repeating: 0, count: B)
    perSample.withUnsafeMutableBufferPointer { out in
        let o = out.baseAddress!
        parallelFor(B, minChunk: 1) { range in
            for b in range {
                var total: Double = 0
                for c in 0..<C {
                    if normalize {
                        for n in masked[b] {
                            var sum: Double = 0, ss: Double = 0
                            tubelet(b, n, c) { v in sum += v }
                            let mu = sum / Double(tpp)
                            tubelet(b, n, c) { v in ss += (v - mu) * (v - mu) }      // Σ (x − μ)²
                            let sd = (ss / Double(max(tpp - 1, 1))).squareRoot()
                            total += ss / ((sd + 1e-6) * (sd + 1e-6))               // Σ target²
                        }
                    } else {
                        var vsum: Double = 0
                        for n in visible[b] { tubelet(b, n, c) { v in vsum += v } }
                        let m = visible[b].isEmpty ? 0 : vsum / Double(visible[b].count * tpp)
                        for n in masked[b] { tubelet(b, n, c) { v in total += (v - m) * (v - m) } }
                    }
                }
                o[b] = total
            }
        }
    }
    return perSample.reduce(0, +) / Double(B * nm * tpp * C)
}
