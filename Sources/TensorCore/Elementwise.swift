/// Elementwise and row kernels on raw pointers, split over cores for large sizes.
/// Shapes are given as counts; callers check them.
public enum Kernels {
    /// y[i] += x[i]                                   x, y: [n]
    @inline(__always)
    public static func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
        parallelFor(n, minChunk: 1 << 16) { r in
            for i in r { y[i] += x[i] }
        }
    }

    /// out[i] = a[i] + b[i]                           a, b, out: [n]
    @inline(__always)
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        parallelFor(n, minChunk: 1 << 16) { r in
            for i in r { out[i] = a[i] + b[i] }
        }
    }

    /// y[i] += alpha · x[i]                           x, y: [n]
    @inline(__always)
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        parallelFor(n, minChunk: 1 << 16) { r in
            for i in r { y[i] += alpha * x[i] }
        }
    }

    /// out[i] = alpha · x[i]                          x, out: [n]  (may alias)
    @inline(__always)
    public static func scale(_ alpha: Float, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        parallelFor(n, minChunk: 1 << 16) { r in
            for i in r { out[i] = alpha * x[i] }
        }
    }

    /// x[r, :] += bias[:] for every row               x: [rows, n], bias: [n]
    @inline(__always)
    public static func addRowVector(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, n: Int) {
        parallelFor(rows, minChunk: max(1, 16384 / max(n, 1))) { r in
            for i in r {
                let row = x + i * n
                for j in 0..<n { row[j] += bias[j] }
            }
        }
    }

    /// out[j] += Σ_r x[r, j]                          x: [rows, n], out: [n]
    public static func sumRowsAccumulate(_ x: UnsafePointer<Float>, rows: Int, n: Int, into out: UnsafeMutablePointer<Float>) {
        // Split over columns so threads never write the same element.
        parallelFor(n, minChunk: max(64, n / max(Threads.count, 1))) { cr in
            for i in 0..<rows {
                let row = x + i * n
                for j in cr { out[j] += row[j] }
            }
        }
    }

    /// dst[i, :] = src[idx[i], :]                     src: [R, d], dst: [idx.count, d]
    public static func gatherRows(_ src: UnsafePointer<Float>, _ idx: UnsafePointer<Int32>, count: Int, d: Int, _ dst: UnsafeMutablePointer<Float>) {
        parallelFor(count, minChunk: max(1, 16384 / max(d, 1))) { r in
            for i in r { (dst + i * d).update(from: src + Int(idx[i]) * d, count: d) }
        }
    }

    /// dst[idx[i], :] += src[i, :]   (serial over i: indices may repeat)
    public static func scatterAddRows(_ src: UnsafePointer<Float>, _ idx: UnsafePointer<Int32>, count: Int, d: Int, _ dst: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            let s = src + i * d, t = dst + Int(idx[i]) * d
            for j in 0..<d { t[j] += s[j] }
        }
    }

    /// Σ x[i] in double                               x: [n]
    public static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        var s: Double = 0
        for i in 0..<n { s += Double(x[i]) }
        return s
    }

    /// Σ x[i]·y[i] in double
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Double {
        var s: Double = 0
        for i in 0..<n { s += Double(x[i]) * Double(y[i]) }
        return s
    }

    /// Σ x[i]² in double
    public static func sumSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        var s: Double = 0
        for i in 0..<n { let v = Double(x[i]); s += v * v }
        return s
    }

    /// true when every element is finite
    public static func allFinite(_ x: UnsafePointer<Float>, _ n: Int) -> Bool {
        for i in 0..<n where !x[i].isFinite { return false }
        return true
    }
}
