import Foundation
import TensorCore

// gelu, exact erf form (PyTorch's nn.GELU() default):
//   out = 0.5 · x · (1 + erf(x / √2))
//   d out / dx = 0.5 · (1 + erf(x / √2)) + x · φ(x),   φ(x) = exp(−x²/2) / √(2π)
//   x, out: any shape (same), flattened to [n]
// erf and exp are VecMath's SIMD8 polynomials (within a few 1e-7 of libm), so both loops vectorize.

private let invSqrt2: Float = 0.70710678118654752
private let invSqrt2Pi: Float = 0.39894228040143268

/// out[i] = 0.5 · x[i] · (1 + erf(x[i]/√2))         x, out: [n]
@inline(__always)
func geluForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, n: Int) {
    parallelFor(n, minChunk: 1 << 15) { range in
        let k = VecMath.V(repeating: invSqrt2)
        var i = range.lowerBound
        let end = range.upperBound
        while i + 8 <= end {
            let v = VecMath.load(x + i)
            VecMath.store(0.5 * v * (1 + VecMath.erf(v * k)), out + i)
            i += 8
        }
        if i < end {
            let v = VecMath.loadPartial(x + i, end - i)
            VecMath.storePartial(0.5 * v * (1 + VecMath.erf(v * k)), out + i, end - i)
        }
    }
}

/// dx[i] += dout[i] · (0.5 · (1 + erf(x[i]/√2)) + x[i] · φ(x[i]))     dout, x, dx: [n]
@inline(__always)
func geluBackward(dout: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, n: Int) {
    parallelFor(n, minChunk: 1 << 15) { range in
        let k = VecMath.V(repeating: invSqrt2), c = VecMath.V(repeating: invSqrt2Pi)
        var i = range.lowerBound
        let end = range.upperBound
        while i + 8 <= end {
            let v = VecMath.load(x + i)
            let slope = 0.5 * (1 + VecMath.erf(v * k)) + v * c * VecMath.exp(-0.5 * v * v)
            VecMath.store(VecMath.load(dx + i) + VecMath.load(dout + i) * slope, dx + i)
            i += 8
        }
        if i < end {
            let rem = end - i
            let v = VecMath.loadPartial(x + i, rem)
            let slope = 0.5 * (1 + VecMath.erf(v * k)) + v * c * VecMath.exp(-0.5 * v * v)
            VecMath.storePartial(VecMath.loadPartial(dx + i, rem) + VecMath.loadPartial(dout + i, rem) * slope, dx + i, rem)
        }
    }
}

/// Reference GELU in double with libm's erf, for the tests.
public func geluReference(_ x: Double) -> Double { 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot())) }

/// GELU, exact erf form: 0.5 · x · (1 + erf(x / √2)).
public func gelu(_ x: Variable) -> Variable {
    let out = Tensor(uninitialized: x.shape)
    geluForward(out.data, x.value.data, n: x.count)
    return Tape.record(out, inputs: [x]) { o in
        geluBackward(dout: o.grad!.data, x: x.value.data, dx: x.gradBuffer().data, n: x.count)
    }
}
