import Foundation

/// Vectorized math for the elementwise and row kernels of the differentiable ops
/// (softmax, attention, GELU, layernorm): SIMD8 exp and erf, and SIMD reductions over rows.
/// All functions work on raw pointers and are safe to call from inside `parallelFor` bodies
/// (they never spawn threads themselves).
public enum VecMath {
    public typealias V = SIMD8<Float>

    @inlinable @inline(__always)
    public static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inlinable @inline(__always)
    public static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// Σ of the 8 lanes. (Written out: the stdlib's generic `sum()`, `max()` and `pointwiseMax`
    /// are not inlined across modules and cost a call per vector.)
    @inlinable @inline(__always)
    public static func hsum(_ v: V) -> Float { ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7])) }

    /// max of the 8 lanes
    @inlinable @inline(__always)
    public static func hmax(_ v: V) -> Float {
        Swift.max(Swift.max(Swift.max(v[0], v[4]), Swift.max(v[1], v[5])), Swift.max(Swift.max(v[2], v[6]), Swift.max(v[3], v[7])))
    }

    /// The first `count` (< 8) elements of p in a vector, the rest `fill`.
    @inlinable @inline(__always)
    public static func loadPartial(_ p: UnsafePointer<Float>, _ count: Int, fill: Float = 0) -> V {
        var v = V(repeating: fill)
        for k in 0..<count { v[k] = p[k] }
        return v
    }

    @inlinable @inline(__always)
    public static func storePartial(_ v: V, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        for k in 0..<count { p[k] = v[k] }
    }

    /// e^x, Cephes' single-precision polynomial (≈2 ulp). Results below e^-88.38 flush to 0;
    /// NaN propagates. Inputs above 88.38 (+inf included) saturate at e^88.38 ≈ 2.4e38, finite
    /// (float32's own exp overflows at 88.72); the kernels only take exp of x − max ≤ 0.
    @inlinable @inline(__always)
    public static func exp(_ x0: V) -> V {
        let hi = V(repeating: 88.3762626647949), lo = V(repeating: -88.3762626647949)
        var x = x0.replacing(with: hi, where: x0 .> hi)
        x = x.replacing(with: lo, where: x .< lo)
        // x = n·ln2 + r, |r| ≤ ln2/2. Adding 1.5·2^23 rounds to the nearest integer and leaves n in
        // the low mantissa bits: no floor (a libm call without SSE4.1) and no float→int
        // conversion (which would trap on NaN).
        let magic = V(repeating: 12582912)
        let t = magic.addingProduct(x, V(repeating: 1.44269504088896341))
        let fx = t - magic
        let n = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        // Each polynomial step is one fused multiply-add (one rounding; vfmadd with the numeric
        // targets' haswell CPU), as Cephes' FMA builds do.
        x = x.addingProduct(fx, V(repeating: -0.693359375))
        x = x.addingProduct(fx, V(repeating: 2.12194440e-4))
        let z = x * x
        var y = V(repeating: 1.3981999507e-3).addingProduct(x, V(repeating: 1.9875691500e-4))
        y = V(repeating: 8.3334519073e-3).addingProduct(y, x)
        y = V(repeating: 4.1665795894e-2).addingProduct(y, x)
        y = V(repeating: 1.6666665459e-1).addingProduct(y, x)
        y = V(repeating: 5.0000001201e-1).addingProduct(y, x)
        y = x.addingProduct(y, z) + 1
        // 2^n by building the exponent bits
        let pow2n = unsafeBitCast((n &+ 127) &<< 23, to: V.self)
        return y * pow2n
    }

    /// erf(x): a rational approximation (odd degree-13 over even degree-8 polynomial on
    /// [-4, 4], as Eigen's float erf), within a few 1e-7 of the exact value; ±1 beyond ±4.
    @inlinable @inline(__always)
    public static func erf(_ x0: V) -> V {
        let hi = V(repeating: 4), lo = V(repeating: -4)
        var x = x0.replacing(with: hi, where: x0 .> hi)
        x = x.replacing(with: lo, where: x .< lo)
        let x2 = x * x
        func step(_ acc: V, _ c: Float) -> V { V(repeating: c).addingProduct(acc, x2) }   // c + acc·x²
        var p = V(repeating: 2.77068142495902e-08).addingProduct(x2, V(repeating: -2.72614225801306e-10))
        p = step(p, -2.10102402082508e-06)
        p = step(p, -5.69250639462346e-05)
        p = step(p, -7.34990630326855e-04)
        p = step(p, -2.95459980854025e-03)
        p = step(p, -1.60960333262415e-02)
        p = p * x
        var q = V(repeating: -2.13374055278905e-04).addingProduct(x2, V(repeating: -1.45660718464996e-05))
        q = step(q, -1.68282697438203e-03)
        q = step(q, -7.37332916720468e-03)
        q = step(q, -1.42647390514189e-02)
        return p / q
    }

    /// max_i x[i]                                      x: [n], n ≥ 1
    @inlinable @inline(__always)
    public static func max(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var m = V(repeating: -.infinity)
        var i = 0
        while i + 8 <= n { let v = load(x + i); m = m.replacing(with: v, where: v .> m); i += 8 }
        var r = hmax(m)
        while i < n { r = Swift.max(r, x[i]); i += 1 }
        return r
    }

    /// Σ x[i] with SIMD accumulators                   x: [n]
    @inlinable @inline(__always)
    public static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var s = V(repeating: 0)
        var i = 0
        while i + 8 <= n { s += load(x + i); i += 8 }
        var r = hsum(s)
        while i < n { r += x[i]; i += 1 }
        return r
    }

    /// Σ x[i]·y[i] with SIMD accumulators              x, y: [n]
    @inlinable @inline(__always)
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        var s = V(repeating: 0)
        var i = 0
        while i + 8 <= n { s += load(x + i) * load(y + i); i += 8 }
        var r = hsum(s)
        while i < n { r += x[i] * y[i]; i += 1 }
        return r
    }

    /// Σ (x[i] − c)²                                    x: [n]
    @inlinable @inline(__always)
    public static func sumSquaredDeviations(_ x: UnsafePointer<Float>, _ c: Float, _ n: Int) -> Float {
        var s = V(repeating: 0)
        let cv = V(repeating: c)
        var i = 0
        while i + 8 <= n { let d = load(x + i) - cv; s += d * d; i += 8 }
        var r = hsum(s)
        while i < n { let d = x[i] - c; r += d * d; i += 1 }
        return r
    }

    /// Numerically stable softmax of one row, in place: x ← exp(x − max) / Σ exp(x − max).   x: [n]
    @inlinable @inline(__always)
    public static func softmaxRowInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        if n == 0 { return }
        let mv = V(repeating: max(x, n))
        var s = V(repeating: 0)
        var i = 0
        while i + 8 <= n { let e = exp(load(x + i) - mv); store(e, x + i); s += e; i += 8 }
        var total = hsum(s)
        if i < n {
            let rem = n - i
            let e = exp(loadPartial(x + i, rem) - mv)
            storePartial(e, x + i, rem)
            for k in 0..<rem { total += e[k] }
        }
        let inv = V(repeating: 1 / total)
        i = 0
        while i + 8 <= n { store(load(x + i) * inv, x + i); i += 8 }
        while i < n { x[i] *= inv[0]; i += 1 }
    }

    /// Softmax backward of one row, accumulating: dx += y ⊙ (dy − Σ dy⊙y).   y, dy, dx: [n]
    /// dx must not alias y or dy.
    @inlinable @inline(__always)
    public static func softmaxBackwardRowAccumulate(y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                                    dx: UnsafeMutablePointer<Float>, _ n: Int) {
        let c = V(repeating: dot(dy, y, n))
        var i = 0
        while i + 8 <= n { store(load(dx + i) + load(y + i) * (load(dy + i) - c), dx + i); i += 8 }
        while i < n { dx[i] += y[i] * (dy[i] - c[0]); i += 1 }
    }

    /// Softmax backward of one row, overwriting: out ← y ⊙ (dy − Σ dy⊙y).   y, dy, out: [n]
    /// `out` may alias `y` or `dy` (each element is read before it is written).
    @inlinable @inline(__always)
    public static func softmaxBackwardRow(y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                          out: UnsafeMutablePointer<Float>, _ n: Int) {
        let c = V(repeating: dot(dy, y, n))
        var i = 0
        while i + 8 <= n { store(load(y + i) * (load(dy + i) - c), out + i); i += 8 }
        while i < n { out[i] = y[i] * (dy[i] - c[0]); i += 1 }
    }
}
