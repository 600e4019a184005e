import XCTest
import TensorCore
import Autodiff

/// Comparisons, spread inputs, gradient capture and thread settings for the tests of add, mul,
/// scale, reshape, layerNorm, gelu, softmax and attention.
enum OpCheck {
    /// Fails unless max_i |a[i] − b[i]| ≤ tol · max(1, max_i |b[i]|), and the counts match.
    static func assertNear(_ a: [Float], _ b: [Double], tol: Double, _ what: String = "",
                           file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "\(what): count", file: file, line: line)
        var scale = 1.0
        for v in b { scale = max(scale, abs(v)) }
        var worst = 0.0, at = 0
        for i in 0..<min(a.count, b.count) {
            let e = abs(Double(a[i]) - b[i])
            if !(e <= worst) { worst = e; at = i }   // NaN counts as worst
        }
        XCTAssert(worst <= tol * scale, "\(what): max error \(worst) at \(at) (\(a.isEmpty ? 0 : a[at]) vs \(b.isEmpty ? 0 : b[at])), scale \(scale)",
                  file: file, line: line)
    }

    /// A variable whose rows have decent and different spreads and offsets (for layernorm):
    /// x[r, j] = offset_r + spread_r · u, u uniform in [-1, 1), spread in [0.5, 2], offset in [-3, 3].
    static func spreadRows(_ shape: [Int], seed: UInt64) -> Variable {
        var rng = RNG(seed: seed)
        let t = Tensor(uninitialized: shape)
        let c = shape.last!, rows = t.count / max(c, 1)
        for r in 0..<rows {
            let off = rng.uniform() * 6 - 3, sp = 0.5 + 1.5 * rng.uniform()
            for j in 0..<c { t.data[r * c + j] = off + sp * (rng.uniform() * 2 - 1) }
        }
        return Variable(t, requiresGrad: true)
    }

    /// The gradients of every input after one backward of f with a fixed random seed tensor.
    static func gradients(_ inputs: [Variable], seed: UInt64 = 7, _ f: ([Variable]) -> Variable) -> [[Float]] {
        for v in inputs { v.clearGrad() }
        let out = f(inputs)
        var rng = RNG(seed: seed)
        let r = Tensor(uninitialized: out.shape)
        rng.fillUniform(r, low: -1, high: 1)
        out.backward(seed: r)
        let g = inputs.map { $0.grad?.array ?? [Float](repeating: 0, count: $0.count) }
        for v in inputs { v.clearGrad() }
        return g
    }

    /// Runs body with vmae's kernels and BLAS on `n` threads, then restores the previous setting.
    static func withThreads(_ n: Int, _ body: () -> Void) {
        let saved = Threads.count
        Threads.configure(n)
        body()
        Threads.configure(saved)
    }
}
