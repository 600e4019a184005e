import Foundation

/// Progress where people wait: a bar with ETA redrawn in place on a terminal, plain lines
/// every `every` seconds (and at the end) otherwise, so a log file gets a few lines, not a
/// bar per item. Training's step line and every long command (predict over many files or a
/// long video, data synth, import, evaluation) draw theirs with this. Goes to stderr by
/// default, so that stdout stays the command's result (predict --json).
public final class ProgressBar {
    public let total: Int
    public let label: String
    public let isTTY: Bool
    let every: TimeInterval
    let write: (String) -> Void
    let start = Date()
    var lastLine: Date
    var done = 0
    var finished = false
    var linesWritten = 0
    public var quiet = false

    public init(total: Int, label: String, every: TimeInterval = 10, isTTY: Bool = isatty(2) == 1,
                write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.total = max(total, 0)
        self.label = label
        self.every = every
        self.isTTY = isTTY
        self.write = write
        lastLine = start
    }

    /// `done` of `total` finished; `detail` says what (a file name).
    public func update(_ done: Int, detail: String = "") {
        if quiet || finished { return }
        self.done = done
        let now = Date()
        if isTTY {
            write("\r" + text(detail) + "\u{1B}[K")
        } else if now.timeIntervalSince(lastLine) >= every && done < total {
            lastLine = now
            linesWritten += 1
            write(text(detail) + "\n")
        }
    }

    /// The last line: on a terminal always; in a log only when periodic lines came before it
    /// (a job done within `every` seconds leaves no progress line).
    public func finish(detail: String = "") {
        if quiet || finished { return }
        finished = true
        done = total
        if isTTY { write("\r" + text(detail) + "\u{1B}[K\n") } else if linesWritten > 0 { write(text(detail) + "\n") }
    }

    func text(_ detail: String) -> String {
        let elapsed = Date().timeIntervalSince(start)
        var s = "\(label) \(done)/\(total)"
        if isTTY { s = ProgressBar.bar(done, of: total) + " " + s }
        if done < total {
            s += done > 0 ? "  eta " + ProgressBar.duration(elapsed / Double(done) * Double(total - done)) : ""
        } else {
            s += "  " + ProgressBar.duration(elapsed)
        }
        return detail.isEmpty ? s : s + "  " + detail
    }

    /// The 24-cell bar: `done` of `total` filled.
    public static func bar(_ done: Int, of total: Int, width: Int = 24) -> String {
        let filled = total > 0 ? min(width, max(0, width * done / total)) : width
        return String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
    }

    /// "1h05m", "3m07s".
    public static func duration(_ s: Double) -> String {
        let t = Int(s.isFinite ? s.rounded() : 0)
        return t >= 3600 ? String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) : String(format: "%dm%02ds", t / 60, t % 60)
    }
}
