import Distributed
import ExitStatus
import Foundation
import TensorBoard
import VideoIO

/// The run's TensorBoard log: event files in `output_dir/tb/` (`log.tensorboard`, default
/// true), written by rank 0 alone. Every metrics record becomes scalars through `scalars(of:)`,
/// the one mapping from metrics.jsonl keys to TensorBoard tags, so the two never drift apart.
/// Images: `recon` at each pretraining checkpoint, `val/confusion` at each evaluation; text:
/// the resolved config (`config`). A resumed run opens a new file that starts with TensorBoard's
/// restart mark (SessionLog START at the first step it runs), and it logs only steps after the
/// resumed one. Logging never stops training: a write that fails prints one warning and
/// TensorBoard logging ends for the run.
public final class TensorBoardLog {
    public let writer: EventWriter
    var failed = false
    let warn: (String) -> Void

    /// The log of a run in `outputDir` starting after `startStep` (0: a new run); nil on
    /// ranks other than 0, or when the file cannot be made (one warning).
    public init?(outputDir: String, startStep: Int, warn: @escaping (String) -> Void = { printErr($0) }) {
        guard Communicator.world.isWriter else { return nil }
        self.warn = warn
        do {
            writer = try EventWriter(logDir: outputDir + "/tb")
            if startStep > 0 { try writer.sessionStart(step: startStep + 1) }
        } catch {
            warn("warning: tensorboard: cannot write to \(outputDir)/tb (\(error)); no TensorBoard log for this run")
            return nil
        }
    }

    /// Tags of metrics keys: `val_X` → `val/X`, timings (`step_s`, `data_wait_s`, `clips_per_s`,
    /// any `…_s`) → `perf/…`, `train_X` → `train/X`, every other number → `train/…` (so a key
    /// added to the records, such as `loss_vs_mean`, appears without more code). Not scalars:
    /// the step itself, text, flags and the run's fixed facts (ranks, batch, view counts).
    public static func scalars(of record: [String: Any]) -> [(tag: String, value: Double)] {
        let skipped: Set<String> = ["step", "ranks", "effective_batch", "val_videos", "val_views", "eval_only"]
        var out: [(String, Double)] = []
        for (key, v) in record where !skipped.contains(key) {
            let x: Double
            switch v {
            case let d as Double: x = d
            case let f as Float: x = Double(f)
            case let i as Int: x = Double(i)
            case let i as Int64: x = Double(i)
            default: continue   // strings, booleans, NSNull
            }
            guard x.isFinite else { continue }   // metrics.jsonl writes these as null
            let tag: String
            if key.hasPrefix("val_") { tag = "val/" + key.dropFirst(4) }
            else if key.hasSuffix("_s") { tag = "perf/" + key }
            else if key.hasPrefix("train_") { tag = "train/" + key.dropFirst(6) }
            else { tag = "train/" + key }
            out.append((tag, x))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// The scalars of one metrics record, at its `step`.
    public func record(_ fields: [String: Any]) {
        guard let step = fields["step"] as? Int else { return }
        attempt { try writer.scalars(TensorBoardLog.scalars(of: fields), step: step) }
    }

    /// An RGB picture (width × height × 3 bytes) as a PNG image.
    public func image(_ tag: String, width: Int, height: Int, rgb: [UInt8], step: Int) {
        attempt {
            let png = try PNGImage.encode(width: width, height: height, rgb: rgb)
            try writer.image(tag, png: png, width: width, height: height, step: step)
        }
    }

    /// The resolved config as the text plugin's Markdown: a JSON code block.
    public func config(_ json: String, step: Int) {
        attempt { try writer.text("config", "```json\n" + json + "\n```", step: step) }
    }

    func attempt(_ body: () throws -> Void) {
        guard !failed else { return }
        do { try body() } catch {
            failed = true
            warn("warning: tensorboard: cannot write \(writer.path) (\(error)); TensorBoard logging stops, training goes on")
        }
    }

    public func close() { writer.close() }
}
