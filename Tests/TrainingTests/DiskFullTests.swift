import Checkpoint
import Foundation
import TestSupport
import Training
import XCTest

/// A checkpoint write that fails — the disk fills up (a small tmpfs, or `ulimit -f`), or the
/// output folder turns read-only — ends the run with status 1 and one line naming the folder
/// and the reason; the previous checkpoint stays intact and readable, no temporary file of the
/// failed write is left, and once there is room again `--resume auto` carries on from it.
///
/// Stopping (not retrying at the next checkpoint) is deliberate: a full or read-only disk
/// rarely heals itself mid-run, and every step trained past the last save is work that a crash
/// would lose; stopping at once keeps what was saved and says what to fix.
final class DiskFullTests: XCTestCase {
    /// Trains steps 0..<4 (checkpoints at 2 and 4), returns the config and checkpoint-4's bytes.
    func firstRun(_ out: String, root: String) throws -> (config: String, saved: Data) {
        var tree = TT.tinyTree(outputDir: out, steps: 12)
        tree["checkpoint"] = ["every_steps": 2, "keep_last": 2]
        let config = try TT.writeConfig(tree, to: root + "/tiny.json")
        let r = try TT.run("vmae-train", ["--config", config, "--quiet", "--stop-at", "4", "--threads", "1"], scratch: root)
        XCTAssertEqual(r.status, 0, r.stderr)
        let saved = try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoint-00000004.h5"))
        return (config, saved)
    }

    /// The failed run's promises, then a resume (with room again) that reaches step 12.
    func checkFailure(_ r: TT.Result, out: String, what: String, reason: String, saved: Data, config: String, root: String,
                      restore: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(r.status, 1, "status; stderr: \(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.signalled, file: file, line: line)
        XCTAssertEqual(r.stderrLines.count, 1, "one line on stderr, got: \(r.stderr)", file: file, line: line)
        let msg = r.stderrLines.first ?? ""
        XCTAssertTrue(msg.hasPrefix("error: " + what), "\(what)…: \(msg)", file: file, line: line)
        XCTAssertTrue(msg.contains(out), "names the folder: \(msg)", file: file, line: line)
        XCTAssertTrue(msg.contains(reason), "names the reason (\(reason)): \(msg)", file: file, line: line)
        XCTAssertTrue(msg.contains("checkpoint-00000004.h5"), "names the checkpoint kept: \(msg)", file: file, line: line)
        XCTAssertEqual(TT.temporaries(out), [], "temporaries left", file: file, line: line)
        let now = try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoint-00000004.h5"))
        XCTAssertEqual(now, saved, "the previous checkpoint changed", file: file, line: line)
        let ck = try Checkpoint.read(out + "/checkpoint-00000004.h5")
        XCTAssertEqual(ck.step, 4, file: file, line: line)
        try restore()
        let again = try TT.run("vmae-train", ["--config", config, "--quiet", "--resume", "auto", "--threads", "1"], scratch: root)
        XCTAssertEqual(again.status, 0, again.stderr, file: file, line: line)
        XCTAssertEqual(TT.checkpointFiles(out).last, "checkpoint-00000012.h5", file: file, line: line)
    }

    /// `ulimit -f`: writes past the limit fail with EFBIG (SIGXFSZ ignored, as a shell's `trap '' XFSZ`).
    func testFileSizeLimitDuringCheckpointKeepsThePreviousOne() throws {
        let root = TT.scratch("fsize", self)
        let out = root + "/out"
        let (config, saved) = try firstRun(out, root: root)
        // the checkpoints are ~600 KB; 200 KB lets the logs and pictures through but not a checkpoint
        let bin = try TT.binary("vmae-train")
        let r = try tool("/bin/sh", ["-c", "trap '' XFSZ; ulimit -f 400; exec \"$0\" \"$@\"", bin,
                                       "--config", config, "--quiet", "--resume", "auto", "--threads", "1"], scratch: root)
        try checkFailure(r, out: out, what: "cannot save a checkpoint in", reason: "File too large", saved: saved, config: config, root: root, restore: {})
    }

    /// A tmpfs that fills up: ENOSPC. Needs root (CI runs as root); skipped with the reason otherwise.
    func testFullDiskDuringCheckpointKeepsThePreviousOne() throws {
        let root = TT.scratch("enospc", self)
        let out = root + "/out"
        try mountTmpfs(out, size: "3m")
        defer { umount(out) }
        let (config, saved) = try firstRun(out, root: root)
        // fill what is left, then free 64 KB: enough for the logs, not for a checkpoint
        let filler = out + "/filler"
        _ = try? tool("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=64k"], scratch: root)
        _ = try tool("/usr/bin/truncate", ["-s", "-64k", filler], scratch: root)
        let r = try TT.run("vmae-train", ["--config", config, "--quiet", "--resume", "auto", "--threads", "1"], scratch: root)
        try checkFailure(r, out: out, what: "cannot save a checkpoint in", reason: "No space left on device", saved: saved, config: config, root: root,
                         restore: { try FileManager.default.removeItem(atPath: filler) })
    }

    /// The output folder remounted read-only between two runs: refused before the first step.
    func testReadOnlyOutputFolderKeepsThePreviousCheckpoint() throws {
        let root = TT.scratch("rofs", self)
        let out = root + "/out"
        try mountTmpfs(out, size: "8m")
        defer { umount(out) }
        let (config, saved) = try firstRun(out, root: root)
        try remount(out, "ro")
        let r = try TT.run("vmae-train", ["--config", config, "--quiet", "--resume", "auto", "--threads", "1"], scratch: root)
        try checkFailure(r, out: out, what: "output_dir \(out) is not writable", reason: "Read-only file system", saved: saved, config: config, root: root,
                         restore: { try remount(out, "rw") })
    }

    // ---- mounts ------------------------------------------------------------------------------

    /// Runs a system tool (not one of ours) and waits for it.
    func tool(_ path: String, _ args: [String], scratch: String) throws -> TT.Result {
        try TT.Running(path, args, scratch: scratch).wait(timeout: 120)
    }

    func mountTmpfs(_ dir: String, size: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let r = try tool("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", dir], scratch: (dir as NSString).deletingLastPathComponent)
        if r.status != 0 {
            throw XCTSkip("cannot mount a tmpfs here (\(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); needs root")
        }
    }

    func remount(_ dir: String, _ mode: String) throws {
        let r = try tool("/bin/mount", ["-o", "remount,\(mode)", dir], scratch: (dir as NSString).deletingLastPathComponent)
        guard r.status == 0 else { throw XCTSkip("cannot remount \(dir) \(mode): \(r.stderr)") }
    }

    func umount(_ dir: String) { _ = try? tool("/bin/umount", [dir], scratch: (dir as NSString).deletingLastPathComponent) }
}
