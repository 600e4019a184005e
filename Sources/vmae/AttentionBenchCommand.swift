import ArgumentParser
import Benchmarks
import ExitStatus
import Foundation
import TensorCore

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
        if let n = threads {
            guard n > 0 else { throw UserError("--threads: must be positive, got \(n)") }
            Threads.configure(n)
        }
        var o = AttentionBench.Options()
        let parts = t.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let frames = parts.compactMap { Int($0) }
        guard frames.count == parts.count, !frames.isEmpty else {
            throw UserError("--t: expected comma-separated frame counts such as 4,8,16, got \"\(t)\"")
        }
        o.frames = frames
        o.size = size; o.patch = patch; o.tubelet = tubelet; o.dim = dim; o.heads = heads
        o.mlpRatio = mlpRatio; o.batch = batch; o.reps = reps
        if let p = AttentionBench.problem(o) { throw UserError(p) }
        if let out {
            let dir = URL(fileURLWithPath: out).deletingLastPathComponent().path
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw UserError("--out: folder \(dir) does not exist")
            }
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let rows = try AttentionBench.run(o) { r in
            if json {
                print(String(data: try! enc.encode(r), encoding: .utf8)!)
            } else {
                printErr(String(format: "  %@ T=%d: fwd %.3f s, fwd+bwd %.3f s, +%.1f MB / +%.1f MB",
                                r.attention as NSString, r.frames, r.fwd_s, r.fwdbwd_s, r.fwd_peak_mb, r.fwdbwd_peak_mb))
            }
        }
        if !json { print(AttentionBench.table(rows, o)) }
        if let out {
            do { try AttentionBench.draw(rows, o, out: out) } catch { throw UserError("--out: cannot write \(out) (\(error))") }
            if !json { print("wrote \(out)") }
        }
    }
}
