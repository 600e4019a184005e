import ArgumentParser
import Benchmarks

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: a full pretraining step (default), kernels (ops), data decoding (data).",
        subcommands: [StepBenchCommand.self, OpsBenchCommand.self, DataBenchCommand.self, AttentionBenchCommand.self],
        defaultSubcommand: StepBenchCommand.self)
}

struct StepBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Time full pretraining steps (tube mask, forward, backward, AdamW) on random input; one JSON line.")

    @Option(help: "vit-tiny, vit-small, vit-base or vit-large.") var preset = "vit-small"
    @Option(help: "Frames per clip.") var frames = 16
    @Option(help: "Frame size (pixels).") var size = 224
    @Option(help: "Clips per step.") var batch = 2
    @Option(help: "Timed steps (after 2 warm-up steps).") var steps = 5
    @Option(help: "Threads for OpenBLAS and vmae's kernels.") var threads: Int?
    @Flag(help: "Also print where the step's time goes: per op forward/backward, phases, GFLOP/s against the GEMM peak.")
    var profile = false
    @Option(help: "GEMM precision of the linear layers: fp32, or bf16 (bf16 operands, fp32 accumulation; needs avx512_bf16 or amx_bf16).")
    var precision = "fp32"
    @Option(help: "VideoMAE V2 running-cell decoder masking: share of tokens the decoder skips (0 = off, V2: 0.5).")
    var decoderRatio = 0.0
    @Option(help: "fp32 GEMM library: openblas, onednn (oneDNN for the products whose A is not transposed) or auto (oneDNN on a CPU with AVX-512 or AVX2+FMA). Default: VMAE_SGEMM, else auto.")
    var sgemm: String?
    @Option(help: "A pretraining config: time its model, frames, size, batch, mask and precision instead of a preset's (--preset, --frames, --size, --batch, --precision and --decoder-ratio are then not used).")
    var config: String?
    @Option(help: "With --config: override a key, e.g. --set optim.batch_size=32 (repeatable).")
    var set: [String] = []

    func validate() throws {
        guard frames > 0, size > 0, batch > 0, steps > 0 else {
            throw ValidationError("--frames, --size, --batch and --steps must be positive")
        }
        if let t = threads, t <= 0 { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        if let config {
            return try runStepBench(configPath: config, overrides: set, steps: steps, threads: threads, profile: profile, sgemm: sgemm)
        }
        try runStepBench(preset: preset, frames: frames, size: size, batch: batch, steps: steps, threads: threads,
                         profile: profile, precision: precision, decoderRatio: decoderRatio, sgemm: sgemm)
    }
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
        try runOpsBench(threads: threads, reps: reps, json: json)
    }
}
