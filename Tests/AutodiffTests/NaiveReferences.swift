import XCTest
import TensorCore
import Autodiff

/// Naive double-precision references and comparisons for the op tests.
enum NaiveRef {
    /// A constant tensor with uniform random values in [lo, hi).
    static func tensor(_ shape: [Int], seed: UInt64, lo: Float = -1, hi: Float = 1) -> Tensor {
        var rng = RNG(seed: seed)
        let t = Tensor(uninitialized: shape)
        rng.fillUniform(t, low: lo, high: hi)
        return t
    }

    /// Fails unless |a[i] − b[i]| ≤ tol · max(1, |b[i]|) for every i, and the counts match.
    static func assertClose(_ a: [Float], _ b: [Double], tol: Double = 1e-5, _ what: String = "",
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "\(what): count", file: file, line: line)
        var worst = 0.0, at = -1
        for i in 0..<min(a.count, b.count) {
            let e = abs(Double(a[i]) - b[i]) / max(1, abs(b[i]))
            if !(e <= worst) { worst = e; at = i }
        }
        XCTAssertLessThanOrEqual(worst, tol, "\(what): worst relative error at \(at): \(a.isEmpty ? 0 : a[max(at, 0)]) vs \(b.isEmpty ? 0 : b[max(at, 0)])",
                                 file: file, line: line)
    }

    /// PyTorch's Conv3d with stride = kernel, no padding, plain loops in double.
    ///   input [B, C, T, H, W], weight [D, C, t, p, p], bias [D] → [B, D, T/t, H/p, W/p]
    static func conv3d(_ input: Tensor, weight: Tensor, bias: Tensor) -> [Double] {
        let (b, c, tt, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3], input.shape[4])
        let (d, t, p) = (weight.shape[0], weight.shape[2], weight.shape[3])
        precondition(weight.shape == [d, c, t, p, p] && bias.shape == [d])
        let (ot, oh, ow) = (tt / t, h / p, w / p)
        let x = input.array, wt = weight.array, bs = bias.array
        var out = [Double](repeating: 0, count: b * d * ot * oh * ow)
        for s in 0..<b { for o in 0..<d { for i in 0..<ot { for y in 0..<oh { for xx in 0..<ow {
            var acc = Double(bs[o])
            for ch in 0..<c { for dt in 0..<t { for dy in 0..<p { for dx in 0..<p {
                let xi = (((s * c + ch) * tt + i * t + dt) * h + y * p + dy) * w + xx * p + dx
                let wi = (((o * c + ch) * t + dt) * p + dy) * p + dx
                acc += Double(x[xi]) * Double(wt[wi])
            } } } }
            out[(((s * d + o) * ot + i) * oh + y) * ow + xx] = acc
        } } } } }
        return out
    }
}
