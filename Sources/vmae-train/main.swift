import ArgumentParser
import ExitStatus
import Foundation
import TensorCore
import Training
import HDF5
import Checkpoint

/// `vmae-train --config F`: pretraining or fine-tuning driven by one JSON config.
struct VMAETrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vmae-train",
        abstract: "Pretrain (VideoMAE) or fine-tune a video encoder from a JSON config.")

    @Option(help: "The run's JSON config.") var config: String
    @Option(name: .customLong("set"), help: "Override a key, e.g. --set optim.lr=3e-4 (repeatable).") var sets: [String] = []
    @Option(help: "auto (newest checkpoint in output_dir) or a checkpoint path.") var resume: String?
    @Option(help: "End the run at this step with a checkpoint, schedule unchanged.") var stopAt: Int?
    @Option(help: "Threads for OpenBLAS and vmae's kernels (default: all cores).") var threads: Int?
    @Flag(help: "Only evaluate (fine-tuning).") var evalOnly = false
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        if let t = threads {
            guard t > 0 else { throw UserError("--threads: must be positive, got \(t)") }
        }
        if let s = stopAt, s <= 0 { throw UserError("--stop-at: must be positive, got \(s)") }
        try runTraining(configPath: config, overrides: sets, resume: resume, stopAt: stopAt, threads: threads,
                        evalOnly: evalOnly, quiet: quiet)
    }
}

// A damaged HDF5 file must not crash or hang this process: every HDF5 file is read first by a
// child copy of this executable with the reader that will read it here (this line runs it,
// when the process is that child).
HDF5Isolation.serveOrEnable(readers: [Checkpoint.isolatedReader])
// VMAE_SGEMM names the fp32 GEMM library for the whole process: a wrong value stops here.
if let why = BLAS.backendError { printErr("error: \(why)"); exit(2) }
runCommandLine(VMAETrain.self)
