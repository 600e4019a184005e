import ArgumentParser
import Foundation
import ExitStatus
import HDF5
import Checkpoint
import Interop
import TensorCore

/// `vmae`: the tool box around training — benchmarks, parity with PyTorch, inspection, data.
struct VMAE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vmae",
        abstract: "VideoMAE tools: bench, parity, inspect, data, predict, reconstruct.",
        subcommands: [BenchCommand.self, ParityCommand.self, InspectCommand.self, DataCommand.self, PredictCommand.self, ReconstructCommand.self, TokensCommand.self, ImportCommand.self, ExportCommand.self])
}

// A damaged HDF5 file must not crash or hang this process: every HDF5 file is read first by a
// child copy of this executable with the reader that will read it here (this line runs it,
// when the process is that child).
HDF5Isolation.serveOrEnable(readers: [Checkpoint.isolatedReader, Parity.isolatedReader])
// VMAE_SGEMM names the fp32 GEMM library for the whole process: a wrong value stops here.
if let why = BLAS.backendError { printErr("error: \(why)"); exit(2) }
runCommandLine(VMAE.self)
