import TensorCore

// reshape: out = x viewed under another shape (same storage, no copy)
//   x:   [...]            (count elements)
//   out: shape            (same count; one entry may be -1)
// The backward is a flat copy: dx[i] += dout[i]  (dout, dx: [count]).

/// x under another shape with the same element count (a view of x's storage; one entry may be
/// -1 to be inferred). The gradient flows back reshaped to x's shape.
public func reshape(_ x: Variable, _ shape: [Int]) -> Variable {
    let v = x.value.reshaped(shape)
    return Tape.record(v, inputs: [x]) { o in
        Kernels.addInPlace(x.gradBuffer().data, o.grad!.data, x.count)
    }
}
