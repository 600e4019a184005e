import ArgumentParser
import ExitStatus
import Foundation
import Interop

struct ParityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parity",
        abstract: "Check the Swift model against PyTorch reference fixtures (HDF5), tensor by tensor.")

    @Argument(help: "Fixture files (Tests/Fixtures/*.h5).")
    var fixtures: [String]

    @Flag(help: "Print every gradient comparison, not only the worst.")
    var verbose = false

    func run() throws {
        var failed = 0
        for path in fixtures {
            let r = try Parity.run(path)
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
            throw ExitCode(1)
        }
        print("parity: all \(fixtures.count) fixtures within tolerance")
    }
}
