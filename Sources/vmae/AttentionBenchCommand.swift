import ArgumentParser
import Benchmarks

struct AttentionBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Joint vs divided space-time attention, one block each: forward and forward+backward time and memory added, per frame count; table (+ PNG).")

    @Option(help: "Frame counts T, comma-separated.") var t = "4,8,16"
    @Option(help: "Frame size (pixels, square).") var size = 224
    @Option(help: "Patch size (pixels).") var patch = 16
    @Option(help: "Tubelet size (frames per token).") var tubelet = 2
    @Option(help: "Block width D.") var dim = 768
    @Option(help: "Attention heads.") var heads = 12
    @Option(name: .customLong("mlp-ratio"), help: "MLP hidden width / D.") var mlpRatio = 4.0
    @Option(help: "Clips per call.") var batch = 1
    @Option(help: "Timed repetitions per measurement (median reported), after one warm-up.") var reps = 3
    @Option(help: "Threads for OpenBLAS and vmae's kernels.") var threads: Int?
    @Option(help: "Write the curves to this PNG.") var out: String?
    @Flag(help: "One JSON line per measurement instead of the table.") var json = false

    func run() throws {
        try runAttentionBench(t: t, size: size, patch: patch, tubelet: tubelet, dim: dim, heads: heads, mlpRatio: mlpRatio,
                              batch: batch, reps: reps, threads: threads, out: out, json: json)
    }
}
