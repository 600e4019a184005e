import Checkpoint
import ExitStatus
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

    /// Writes a checkpoint for `step` and prunes the oldest beyond keep_last. A write that
    /// fails (disk full, read-only folder) leaves the folder as it was and is a
    /// `TrainingFailure` naming the folder, the reason and the checkpoint that is kept.
    public func save(_ ck: Checkpoint, step: Int) throws {
        do { try ck.write(to: path(step: step)) } catch {
            throw TrainingFailure("cannot save a checkpoint in \(dir): \(CheckpointStore.reason(error)); \(keptLine)")
        }
        for (_, p) in list().dropFirst(keepLast) { try? FileManager.default.removeItem(atPath: p) }
    }

    /// Fails unless a file can be created in the folder (read-only, full, no permission), so
    /// that a run stops before training steps it could not save.
    public func checkWritable() throws {
        let probe = dir + "/.write-test-\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let why = String(cString: strerror(errno))
        guard fd >= 0 else { throw TrainingFailure("output_dir \(dir) is not writable (\(why)); \(keptLine)") }
        close(fd)
        unlink(probe)
    }

    /// What a failed save leaves: the newest checkpoint, untouched.
    var keptLine: String {
        list().first.map { "the previous checkpoint \($0.path) is kept (free space or fix the folder, then --resume auto)" }
            ?? "no checkpoint was saved yet"
    }

    /// The operating system's reason inside an HDF5 error ("No space left on device"), else the error.
    static func reason(_ error: Error) -> String {
        let text = oneLine("\(error)")
        if let r = text.range(of: "error message = '") {
            let rest = text[r.upperBound...]
            if let end = rest.firstIndex(of: "'") { return String(rest[..<end]) }
        }
        return text
    }

    /// Removes temporary files left by a writer that was killed mid-write.
    public func removeStaleTemporaries() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for n in names where n.hasPrefix(".") && n.contains(".h5.tmp-") {
            try? FileManager.default.removeItem(atPath: dir + "/" + n)
        }
    }
}
