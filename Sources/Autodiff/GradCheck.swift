import TensorCore

/// Finite-difference gradient check, the same for every op (tinygrad's way): the op's output is
/// projected on a fixed random tensor R, L = Σ out·R (in double), and for sampled elements of
/// each input the analytic dL/dx (one backward with seed R) is compared with the central
/// difference (L(x+h) − L(x−h)) / 2h, evaluated in double from float32 forwards.
public enum GradCheck {
    public struct Report: CustomStringConvertible {
        /// Per input: max |analytic − numeric| / max(largest |analytic|, floor).
        public var errors: [Double]
        public var maxError: Double { errors.max() ?? 0 }
        public var description: String { "gradcheck errors " + errors.map { String(format: "%.2e", $0) }.joined(separator: " ") }
    }

    /// - Parameters:
    ///   - inputs: variables to check (requiresGrad true); their values are perturbed and restored.
    ///   - h: step for the central difference.
    ///   - samples: elements checked per input (all if the input is smaller).
    ///   - f: the function under test, built from ops.
    public static func run(_ inputs: [Variable], h: Float = 1e-2, samples: Int = 64, seed: UInt64 = 1,
                           _ f: ([Variable]) -> Variable) -> Report {
        var rng = RNG(seed: seed)
        for v in inputs { v.clearGrad() }
        let out = f(inputs)
        let r = Tensor(uninitialized: out.shape)
        rng.fillUniform(r, low: -1, high: 1)
        out.backward(seed: r)
        var errors: [Double] = []
        for v in inputs {
            let analytic = v.grad?.copy() ?? Tensor(zeros: v.shape)
            v.clearGrad()
            var largest: Double = 1e-3
            for i in 0..<analytic.count { largest = max(largest, Double(abs(analytic.data[i]))) }
            let n = v.count
            let picks = n <= samples ? Array(0..<n) : (0..<samples).map { _ in rng.int(below: n) }
            var worst: Double = 0
            for i in picks {
                let x0 = v.value.data[i]
                v.value.data[i] = x0 + h
                let lp = Tape.noGrad { project(f(inputs).value, r) }
                v.value.data[i] = x0 - h
                let lm = Tape.noGrad { project(f(inputs).value, r) }
                v.value.data[i] = x0
                // the step actually taken, as float32 rounds x0±h
                let hp = Double(x0 + h) - Double(x0), hm = Double(x0) - Double(x0 - h)
                let numeric = (lp - lm) / (hp + hm)
                worst = max(worst, abs(numeric - Double(analytic.data[i])) / largest)
            }
            errors.append(worst)
        }
        return Report(errors: errors)
    }

    static func project(_ t: Tensor, _ r: Tensor) -> Double { Kernels.dot(t.data, r.data, t.count) }
}
