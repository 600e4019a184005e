import Checkpoint
import Foundation

/// The checkpoints of one output_dir: `checkpoint-STEP.h5` (8-digit step), newest `keep_last`
/// kept; `checkpoint-best.h5` (fine-tuning) is never pruned.
public struct CheckpointStore {
    public let dir: String
    public let keepLast: Int

    public init(dir: String, keepLast: Int) {
        self.dir = dir
        self.keepLast = keepLast
    }

    public func path(step: Int) -> String { dir + String(format: "/checkpoint-%08d.h5", step) }
    public var bestPath: String { dir + "/checkpoint-best.h5" }

    /// Step-numbered checkpoints present, newest first.
    public func list() -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.compactMap { n -> (Int, String)? in
            guard n.hasPrefix("checkpoint-"), n.hasSuffix(".h5"),
                  let s = Int(n.dropFirst("checkpoint-".count).dropLast(3)) else { return nil }
            return (s, dir + "/" + n)
        }.sorted { $0.0 > $1.0 }
    }

    /// The newest checkpoint that reads; damaged ones are skipped with a warning.
    public func latestReadable(warn: (String) -> Void) -> Checkpoint? {
        for (_, p) in list() {
            do { return try Checkpoint.read(p) } catch { warn("warning: skipping unreadable checkpoint \(error)") }
        }
        return nil
    }

    /// Writes a checkpoint for `step` and prunes the oldest beyond keep_last.
    public func save(_ ck: Checkpoint, step: Int) throws {
        try ck.write(to: path(step: step))
        for (_, p) in list().dropFirst(keepLast) { try? FileManager.default.removeItem(atPath: p) }
    }

    /// Removes temporary files left by a writer that was killed mid-write.
    public func removeStaleTemporaries() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for n in names where n.hasPrefix(".") && n.contains(".h5.tmp-") {
            try? FileManager.default.removeItem(atPath: dir + "/" + n)
        }
    }
}
