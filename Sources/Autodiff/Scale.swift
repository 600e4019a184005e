import TensorCore

// scale: out = s · x
//   x, out: any shape (same)

/// out[i] = s · x[i]                                x, out: [n]
@inline(__always)
func scaleForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ s: Float, n: Int) {
    Kernels.scale(s, x, out, n)
}

/// dx[i] += s · dout[i]                             dout, dx: [n]
@inline(__always)
func scaleBackward(dout: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ s: Float, n: Int) {
    Kernels.axpy(s, dout, dx, n)
}

/// s · x.
public func scale(_ x: Variable, _ s: Float) -> Variable {
    let out = Tensor(uninitialized: x.shape)
    scaleForward(out.data, x.value.data, s, n: x.count)
    return Tape.record(out, inputs: [x]) { o in
        scaleBackward(dout: o.grad!.data, dx: x.gradBuffer().data, s, n: x.count)
    }
}
