import ExitStatus
import Foundation
import TensorCore

/// `vmae parity FIXTURE.h5 …`: each fixture's comparisons (gradients as their worst unless
/// `verbose`), then one verdict line; exit status 1 when any fixture is outside tolerance.
public func runParity(fixtures: [String], verbose: Bool, precision: String = "fp32") throws {
    guard let prec = Precision(rawValue: precision) else {
        throw UserError("--precision: expected fp32 or bf16, got \"\(precision)\"")
    }
    var failed = 0
    for path in fixtures {
        let r = try Parity.run(path, precision: prec)
        print("\(path) (\(r.kind))")
        let grads = r.comparisons.filter { $0.what.hasPrefix("grad ") }
        for c in r.comparisons where !c.what.hasPrefix("grad ") || verbose || !c.ok {
            print("  \(c.ok ? "ok  " : "FAIL") \(c.what.padding(toLength: 44, withPad: " ", startingAt: 0)) " + String(format: "error %.2e  (tolerance %.0e)", c.error, c.tolerance))
        }
        if !verbose, let worst = grads.max(by: { $0.error < $1.error }) {
            print("  \(worst.ok ? "ok  " : "FAIL") \("gradients".padding(toLength: 44, withPad: " ", startingAt: 0)) " + String(format: "error %.2e  (tolerance %.0e, worst of %d)",
                         worst.error, worst.tolerance, grads.count))
        }
        if !r.ok { failed += 1 }
    }
    if failed > 0 {
        printErr("parity: \(failed) of \(fixtures.count) fixtures outside tolerance")
        throw ExitCodeError(code: 1)
    }
    print("parity: all \(fixtures.count) fixtures within tolerance")
}
