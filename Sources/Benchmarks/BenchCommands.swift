import ExitStatus
import Foundation
import RunConfig
import TensorCore
import VideoMAE

// What `vmae bench step|ops|data|attention` and `vmae tokens` do once their arguments are
// parsed: run, then print (JSON lines with sorted keys, or a table).

/// `v` as one line of JSON with sorted keys.
func jsonLine<T: Encodable>(_ v: T) throws -> String {
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys]
    return String(data: try enc.encode(v), encoding: .utf8)!
}

/// Sets the fp32 GEMM backend from `--sgemm` when given (a bad `VMAE_SGEMM` is refused by `vmae`
/// before any command runs).
func chooseGEMMBackend(_ option: String?) throws {
    guard let option else { return }
    guard let b = GEMMBackend(rawValue: option) else {
        throw UserError("--sgemm: expected openblas, onednn or auto, got \"\(option)\"")
    }
    BLAS.setBackend(b)
}

/// `vmae bench step`: full pretraining steps on random input; one JSON line.
public func runStepBench(preset: String, frames: Int, size: Int, batch: Int, steps: Int, threads: Int?,
                         profile: Bool = false, precision: String = "fp32", decoderRatio: Double = 0,
                         sgemm: String? = nil) throws {
    if let t = threads { Threads.configure(t) }
    try chooseGEMMBackend(sgemm)
    guard let prec = Precision(rawValue: precision) else {
        throw UserError("--precision: expected fp32 or bf16, got \"\(precision)\"")
    }
    let (r, p) = try StepBench.run(preset: preset, frames: frames, size: size, batch: batch, steps: steps,
                                   profile: profile, precision: prec, decoderRatio: decoderRatio)
    if let p {
        print(p.table(title: "profile: \(preset) \(frames)×\(size) b\(batch), \(precision), \(Threads.count) threads, \(steps) steps"))
    }
    print(try jsonLine(r))
}

/// `vmae bench step --config FILE`: the step of a pretraining config's own model, frames, size,
/// batch (`optim.batch_size`), mask (type, ratio, decoder ratio) and precision, on random input.
public func runStepBench(configPath: String, overrides: [String], steps: Int, threads: Int?, profile: Bool,
                         sgemm: String? = nil) throws {
    if let t = threads { Threads.configure(t) }
    try chooseGEMMBackend(sgemm)
    let cfg = try TrainConfig.load(path: configPath, overrides: overrides)
    guard cfg.task == "pretrain" else { throw UserError("\(configPath): --config needs a pretraining config (task is \"\(cfg.task)\")") }
    let c = cfg.modelConfig(numClasses: 1)  // no head in pretraining
    guard let prec = Precision(rawValue: cfg.optim.precision ?? "fp32"), let mt = MaskType(rawValue: cfg.mask.type) else {
        throw UserError("\(configPath): optim.precision or mask.type is not one vmae knows")
    }
    let label = (configPath as NSString).lastPathComponent
    let (r, p) = try StepBench.withPrecision(prec, refusal: "\(configPath): optim.precision") {
        try StepBench.run(model: c, label: label, batch: cfg.optim.batch_size, steps: steps, ratio: cfg.mask.ratio,
                          maskType: mt, profile: profile, decoderRatio: cfg.mask.decoder_ratio ?? 0)
    }
    if let p {
        print(p.table(title: "profile: \(label) \(c.num_frames)×\(c.img_size) b\(cfg.optim.batch_size), \(prec.rawValue), \(Threads.count) threads, \(steps) steps"))
    }
    print(try jsonLine(r))
}

/// `vmae bench ops`: GEMM and elementwise kernel rates, one line (or JSON line) per measurement.
public func runOpsBench(threads: Int, reps: Int, json: Bool) throws {
    Threads.configure(threads)
    for r in OpsBench.run(reps: reps) {
        if json {
            print(String(data: try JSONEncoder().encode(r), encoding: .utf8)!)
        } else {
            print(String(format: "%-36@ %-22@ %8.3f ms  %7.1f %@", r.op as NSString, r.shape as NSString, r.median_ms, r.rate, r.unit as NSString))
        }
    }
}

/// `vmae bench data`: decoded clips/s through the trainer's loader; one JSON line (progress on stderr).
public func runDataBench(list: String?, root: String?, frames: Int, size: Int, samplingRate: Int, workers: Int, clips: Int,
                         batch: Int, mode: String, sampling: String, decodeScale: Double?) throws {
    let r = try DataBench.run(list: list, root: root, frames: frames, size: size, samplingRate: samplingRate,
                              workers: workers, clips: clips, batch: batch, mode: mode, sampling: sampling,
                              decodeScale: decodeScale,
                              log: { printErr($0) })
    print(try jsonLine(r))
}

/// `vmae bench attention`: joint vs divided attention per frame count (`t`: "4,8,16"); a table
/// (progress on stderr) or JSON lines, and the curves as a PNG when `out` is given.
public func runAttentionBench(t: String, size: Int, patch: Int, tubelet: Int, dim: Int, heads: Int, mlpRatio: Double,
                              batch: Int, reps: Int, threads: Int?, out: String?, json: Bool) throws {
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
    let rows = try AttentionBench.run(o) { r in
        if json {
            print(try! jsonLine(r))
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

/// `vmae tokens`: the token and attention-pair counts of a clip; a table or one JSON line.
public func runTokens(frames: Int, size: Int, patch: Int, tubelet: Int, json: Bool) throws {
    let c = try TokenCalculator.count(frames: frames, size: size, patch: patch, tubelet: tubelet)
    print(json ? try jsonLine(c) : TokenCalculator.table(c))
}
