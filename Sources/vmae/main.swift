import ArgumentParser
import ExitStatus

/// `vmae`: the tool box around training — benchmarks, parity with PyTorch, inspection, data.
struct VMAE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vmae",
        abstract: "VideoMAE tools: bench, parity, inspect, data, predict, reconstruct.",
        subcommands: [BenchCommand.self, ParityCommand.self, InspectCommand.self, DataCommand.self, PredictCommand.self, ReconstructCommand.self, TokensCommand.self, ImportCommand.self, ExportCommand.self])
}

runCommandLine(VMAE.self)
