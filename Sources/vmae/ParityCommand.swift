import ArgumentParser
import Interop

struct ParityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parity",
        abstract: "Check the Swift model against PyTorch reference fixtures (HDF5), tensor by tensor.")

    @Argument(help: "Fixture files (Tests/Fixtures/*.h5).")
    var fixtures: [String]

    @Flag(help: "Print every gradient comparison, not only the worst.")
    var verbose = false

    @Option(help: "GEMM precision of the linear layers: fp32 (the design's tolerances) or bf16 (mixed precision, wider stated tolerances).")
    var precision = "fp32"

    func run() throws {
        try runParity(fixtures: fixtures, verbose: verbose, precision: precision)
    }
}
