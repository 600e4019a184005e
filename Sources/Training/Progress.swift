import Distributed
import ExitStatus
import Foundation

/// The run's voice: a live bar on a terminal, plain lines otherwise, and one JSON line per
/// logged step in `output_dir/metrics.jsonl` (and the same numbers as TensorBoard scalars when
/// the run has a `TensorBoardLog`). In a data-parallel run only rank 0 has one: on the other
/// ranks it is silent and writes nothing.
public final class Progress {
    let total: Int
    let isTTY: Bool
    let metrics: FileHandle?
    let quiet: Bool
    let tensorBoard: TensorBoardLog?
    let start = Date()
    var firstStep: Int?
    var firstTime = Date()
    var lastLossVsMean: Double?

    /// - Parameter startStep: the step the run starts from. Records of later steps (written by
    ///   a run that died after its last checkpoint) and torn lines are dropped from an existing
    ///   file, so that every logged step has exactly one line.
    public init(total: Int, metricsPath: String?, quiet: Bool = false, startStep: Int? = nil, tensorBoard: TensorBoardLog? = nil) {
        self.total = total
        self.tensorBoard = tensorBoard
        // under mpirun a rank's stdout is a pseudo-terminal even when mpirun's goes to a log:
        // plain lines there
        self.isTTY = isatty(1) == 1 && !Communicator.world.usesMPI
        let writer = Communicator.world.isWriter
        self.quiet = quiet || !writer
        if let p = metricsPath, writer {
            if let start = startStep, let old = FileManager.default.contents(atPath: p) {
                let kept = old.split(separator: UInt8(ascii: "\n")).filter { line in
                    guard let r = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { return false }
                    return (r["step"] as? Int).map { $0 <= start } ?? true
                }
                var d = Data()
                for l in kept { d.append(contentsOf: l); d.append(UInt8(ascii: "\n")) }
                if d.count != old.count { try? d.write(to: URL(fileURLWithPath: p), options: .atomic) }
            }
            if !FileManager.default.fileExists(atPath: p) { _ = FileManager.default.createFile(atPath: p, contents: nil) }
            metrics = FileHandle(forWritingAtPath: p)
            metrics?.seekToEndOfFile()
        } else {
            metrics = nil
        }
    }

    /// Appends a record to metrics.jsonl (keys sorted, one line), and its numbers to TensorBoard.
    public func record(_ fields: [String: Any]) {
        tensorBoard?.record(fields)
        guard let metrics else { return }
        var clean: [String: Any] = [:]
        for (k, v) in fields {
            if let d = v as? Double, !d.isFinite { clean[k] = NSNull() } else { clean[k] = v }
        }
        if let d = try? JSONSerialization.data(withJSONObject: clean, options: [.sortedKeys]) {
            metrics.write(d)
            metrics.write("\n".data(using: .utf8)!)
        }
    }

    /// The bar (terminal) or a line (log file) for a training step.
    /// `lossVsMean`: the loss over the mean predictor's (given on logged steps; the bar keeps the last one).
    public func show(step: Int, epoch: Int, loss: Double, lr: Double, clipsPerSec: Double, force: Bool = false,
                     lossVsMean: Double? = nil) {
        if quiet { return }
        if let r = lossVsMean { lastLossVsMean = r }
        if firstStep == nil { firstStep = step; firstTime = Date() }
        let done = step - (firstStep ?? step)
        let elapsed = Date().timeIntervalSince(firstTime)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - step) : 0
        let vsMean = lastLossVsMean.map { String(format: " (%.3f of mean)", $0) } ?? ""
        let text = String(format: "step %d/%d  epoch %d  loss %.4f%@  lr %.2e  %.2f clips/s  eta %@",
                          step, total, epoch, loss, vsMean, lr, clipsPerSec, ProgressBar.duration(eta))
        if isTTY {
            print("\r\(ProgressBar.bar(step, of: total)) \(text)\u{1B}[K", terminator: force ? "\n" : "")
            fflush(stdout)
        } else if force {
            print(text)
        }
    }

    /// A message on its own line (the bar is redrawn after it).
    public func say(_ s: String) {
        if quiet { return }
        if isTTY { print("\r\u{1B}[K" + s) } else { print(s) }
    }

    public func finish() {
        if isTTY && !quiet { print("") }
        try? metrics?.close()
        tensorBoard?.close()
    }
}
