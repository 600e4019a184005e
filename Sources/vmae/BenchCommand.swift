import ArgumentParser
import Foundation
import TensorCore
import Training

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: kernels (ops).",
        subcommands: [OpsBenchCommand.self])
}

struct OpsBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops", abstract: "GEMM GFLOP/s at the model's shapes and GB/s of elementwise kernels.")

    @Option(help: "Threads for OpenBLAS and vmae's kernels.") var threads: Int = 2
    @Option(help: "Repetitions per measurement (median reported).") var reps: Int = 9
    @Flag(help: "One JSON line per measurement.") var json = false

    func validate() throws {
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        guard reps > 0 else { throw ValidationError("--reps must be positive") }
    }

    func run() throws {
        Threads.configure(threads)
        for r in OpsBench.run(reps: reps) {
            if json {
                print(String(data: try JSONEncoder().encode(r), encoding: .utf8)!)
            } else {
                print(String(format: "%-36@ %-22@ %8.3f ms  %7.1f %@", r.op as NSString, r.shape as NSString, r.median_ms, r.rate, r.unit as NSString))
            }
        }
    }
}
