import XCTest
import TensorCore
import Autodiff

/// A parameter-like variable with uniform random values in [lo, hi).
func randomVar(_ shape: [Int], seed: UInt64, lo: Float = -1, hi: Float = 1) -> Variable {
    var rng = RNG(seed: seed)
    let t = Tensor(uninitialized: shape)
    rng.fillUniform(t, low: lo, high: hi)
    return Variable(t, requiresGrad: true)
}

/// Checks every input's gradient of `f` by central differences; fails the test beyond `tol`
/// (max error relative to the gradient's largest magnitude).
func assertGradients(_ inputs: [Variable], tol: Double = 1e-2, h: Float = 1e-2, samples: Int = 64,
                     file: StaticString = #filePath, line: UInt = #line, _ f: ([Variable]) -> Variable) {
    let report = GradCheck.run(inputs, h: h, samples: samples, f)
    for (i, e) in report.errors.enumerated() {
        XCTAssertLessThan(e, tol, "input \(i): \(report)", file: file, line: line)
    }
    XCTAssertEqual(Tape.count, 0, "the tape must be empty after backward", file: file, line: line)
}
