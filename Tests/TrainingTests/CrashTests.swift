import Checkpoint
import Foundation
import TestSupport
import XCTest

/// Training that survives anything: SIGKILL in the middle of a checkpoint write, Ctrl-C, and a
/// loss that blows up — through the real `vmae-train` binary.
final class CrashTests: XCTestCase {
    /// A 1.9M-parameter model (23 MB checkpoints with the moments): big enough that a write
    /// takes tens of milliseconds, small enough that a step takes about as long.
    func mediumTree(_ out: String) -> [String: Any] {
        var t = TT.tinyTree(outputDir: out, steps: 100_000)
        t["model"] = ["preset": NSNull(), "encoder_embed_dim": 256, "encoder_depth": 2, "encoder_num_heads": 4,
                      "decoder_embed_dim": 128, "decoder_depth": 1, "decoder_num_heads": 4, "patch_size": 8]
        t["checkpoint"] = ["every_steps": 1, "keep_last": 3]
        return t
    }

    func checkpointsAllRead(_ out: String, file: StaticString = #filePath, line: UInt = #line) -> [Int] {
        var steps: [Int] = []
        for f in TT.checkpointFiles(out) {
            do {
                let ck = try Checkpoint.read(out + "/" + f)
                XCTAssertEqual(f, String(format: "checkpoint-%08d.h5", ck.step), file: file, line: line)
                XCTAssertFalse(ck.expAvgSq.isEmpty, file: file, line: line)
                XCTAssertTrue(ck.model.allSatisfy { TT.allFinite($0.1) }, "\(f): non-finite parameters", file: file, line: line)
                steps.append(ck.step)
            } catch {
                XCTFail("\(f) does not read after a kill: \(error)", file: file, line: line)
            }
        }
        return steps
    }

    func testSIGKILLDuringCheckpointWritesLeavesReadableCheckpoints() throws {
        let root = TT.scratch("kill", self)
        let out = root + "/out"
        let config = try TT.writeConfig(mediumTree(out), to: root + "/medium.json")
        let bin = try TT.binary("vmae-train")
        var killedMidWrite = 0
        var newest = 0
        for round in 0..<5 {
            let p = try TT.Running(bin, ["--config", config, "--resume", "auto", "--quiet", "--threads", "1"], scratch: root)
            let mine = ".h5.tmp-\(p.pid)"
            // wait until this process is writing its 1st–3rd checkpoint (2nd–3rd in the first
            // round, so that there is a previous one), then kill it at a random moment of the write
            let target = Int.random(in: (round == 0 ? 2 : 1)...3)
            var seen = Set<String>()
            let deadline = Date().addingTimeInterval(30)
            while seen.count < target && p.process.isRunning && Date() < deadline {
                for t in TT.temporaries(out) where t.hasSuffix(mine) { seen.insert(t) }
                usleep(300)
            }
            XCTAssertTrue(p.process.isRunning, "round \(round): the run ended on its own: \(p.wait().stderr)")
            usleep(UInt32.random(in: 0...15_000))
            p.kill(SIGKILL)
            let r = p.wait()
            XCTAssertTrue(r.signalled, "round \(round)")
            if TT.temporaries(out).contains(where: { $0.hasSuffix(mine) }) { killedMidWrite += 1 }

            let steps = checkpointsAllRead(out)
            XCTAssertFalse(steps.isEmpty, "round \(round): no checkpoint left")
            let top = steps.max() ?? 0
            XCTAssertGreaterThanOrEqual(top, newest, "round \(round): the newest checkpoint went backwards")
            newest = top
        }
        XCTAssertGreaterThan(killedMidWrite, 0, "no kill landed inside a checkpoint write; the test proved nothing")

        // resume auto continues from the newest checkpoint, and clears the torn temporaries
        let r = try TT.run("vmae-train", ["--config", config, "--resume", "auto", "--stop-at", "\(newest + 2)", "--threads", "1"],
                           scratch: root)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("resumed from \(out)/" + String(format: "checkpoint-%08d.h5", newest) + " at step \(newest)"),
                      r.stdout.split(separator: "\n").filter { !$0.hasPrefix(" ") }.joined(separator: "\n"))
        XCTAssertEqual(TT.temporaries(out), [])
        XCTAssertEqual(checkpointsAllRead(out).max(), newest + 2)

        // five kills and resumes later, the parameters and moments are bitwise those of a run
        // that was never interrupted
        var straightTree = mediumTree(root + "/straight")
        straightTree["checkpoint"] = ["every_steps": 1000, "keep_last": 1]
        let straightConfig = try TT.writeConfig(straightTree, to: root + "/straight.json")
        let s = try TT.run("vmae-train", ["--config", straightConfig, "--quiet", "--stop-at", "\(newest + 2)", "--threads", "1"],
                           scratch: root)
        XCTAssertEqual(s.status, 0, s.stderr)
        let a = try Checkpoint.read(out + String(format: "/checkpoint-%08d.h5", newest + 2))
        let b = try Checkpoint.read(root + "/straight" + String(format: "/checkpoint-%08d.h5", newest + 2))
        XCTAssertEqual(ResumeTests.differences(a, b), [], "killed and resumed vs straight")
    }

    /// Ctrl-C twice: the second quits at once (status 130); whatever was being written then is
    /// a temporary, and every checkpoint still reads.
    func testSecondSIGINTQuitsAtOnce() throws {
        // The second Ctrl-C is sent only once the run has said it saw the first (two signals sent
        // before the process runs again arrive as one, as on a busy machine). If the run then
        // finishes its step and exits before the second lands, that attempt proves nothing and
        // is made again.
        for attempt in 1...3 {
            let root = TT.scratch("sigint2-\(attempt)", self)
            let out = root + "/out"
            let config = try TT.writeConfig(mediumTree(out), to: root + "/medium.json")
            let p = try TT.Running(try TT.binary("vmae-train"), ["--config", config, "--quiet", "--threads", "1"], scratch: root)
            var deadline = Date().addingTimeInterval(30)
            while TT.checkpointFiles(out).count < 2 && p.process.isRunning && Date() < deadline { usleep(500) }
            p.kill(SIGINT)
            deadline = Date().addingTimeInterval(30)
            while !p.stderrSoFar.contains("Ctrl-C again") && p.process.isRunning && Date() < deadline { usleep(200) }
            XCTAssertTrue(p.stderrSoFar.contains("Ctrl-C again"), "the first Ctrl-C was not acknowledged: \(p.stderrSoFar)")
            guard p.process.isRunning else { _ = p.wait(); continue }
            p.kill(SIGINT)
            let r = p.wait(timeout: 30)
            if r.status == 0 && !r.signalled { continue }   // it finished before the second signal was handled
            XCTAssertEqual(r.status, 130, r.stderr)
            XCTAssertFalse(checkpointsAllRead(out).isEmpty)
            return
        }
        XCTFail("in 3 attempts the run always finished its step before the second Ctrl-C arrived")
    }

    /// Ctrl-C once: the step finishes, a checkpoint is written, status 0; resume auto goes on.
    func testSIGINTCheckpointsAndResumes() throws { try stopsCleanly(on: SIGINT) }

    /// SIGTERM (a scheduler's stop) the same way.
    func testSIGTERMCheckpointsAndResumes() throws { try stopsCleanly(on: SIGTERM) }

    func stopsCleanly(on signal: Int32) throws {
        let root = TT.scratch("sig\(signal)", self)
        let out = root + "/out"
        var tree = TT.tinyTree(outputDir: out, steps: 100_000)
        tree["checkpoint"] = ["every_steps": 100_000, "keep_last": 3]
        let config = try TT.writeConfig(tree, to: root + "/tiny.json")
        let p = try TT.Running(try TT.binary("vmae-train"), ["--config", config, "--threads", "1"], scratch: root)
        let deadline = Date().addingTimeInterval(30)
        while p.process.isRunning && Date() < deadline {
            let lines = (try? String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8))?.split(separator: "\n").count ?? 0
            if lines >= 3 { break }
            usleep(1000)
        }
        p.kill(signal)
        let r = p.wait(timeout: 30)
        XCTAssertFalse(r.signalled, "killed by the signal instead of stopping: \(r.stderr)")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("stopping after this step"), r.stderr)
        let steps = checkpointsAllRead(out)
        XCTAssertEqual(steps.count, 1, "one checkpoint, written because of the signal")
        let stopped = try XCTUnwrap(steps.first)
        XCTAssertGreaterThanOrEqual(stopped, 3)
        XCTAssertTrue(r.stdout.contains("stopped at step \(stopped)"), r.stdout.split(separator: "\n").suffix(3).joined(separator: "\n"))
        let lastLogged = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").last!
        XCTAssertTrue(lastLogged.contains("\"step\":\(stopped),"), "the checkpoint is of the last finished step: \(lastLogged)")

        let r2 = try TT.run("vmae-train", ["--config", config, "--resume", "auto", "--stop-at", "\(stopped + 3)", "--threads", "1"], scratch: root)
        XCTAssertEqual(r2.status, 0, r2.stderr)
        XCTAssertTrue(r2.stdout.contains("at step \(stopped)"), r2.stdout)
        XCTAssertEqual(checkpointsAllRead(out).max(), stopped + 3)
    }

    /// A loss that becomes non-finite stops the run with the step named and status 1; the last
    /// good checkpoint stays, finite.
    func testNonFiniteLossStopsWithStatus1() throws {
        let root = TT.scratch("nan", self)
        let out = root + "/out"
        var tree = TT.tinyTree(outputDir: out, steps: 50)
        tree["checkpoint"] = ["every_steps": 1, "keep_last": 3]
        let config = try TT.writeConfig(tree, to: root + "/tiny.json")
        // lr 1e30 with no warmup: step 1 throws the weights to ~1e30 (still finite, saved),
        // step 2's loss overflows
        let r = try TT.run("vmae-train", ["--config", config, "--quiet", "--set", "optim.lr=1e30", "--set", "optim.warmup_steps=0"],
                           scratch: root)
        XCTAssertFalse(r.signalled)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderrLines.count, 1, r.stderr)
        let msg = r.stderrLines.first ?? ""
        XCTAssertTrue(msg.contains("loss is") && msg.contains("at step 2"), msg)
        XCTAssertTrue(msg.contains("checkpoint-00000001.h5"), "names the checkpoint kept: \(msg)")
        XCTAssertEqual(checkpointsAllRead(out), [1])
    }

    /// Parameters that overflow (the loss of that step was still finite) are not saved: the run
    /// stops with status 1 and the previous checkpoint is the newest.
    func testNonFiniteParametersAreNeverSaved() throws {
        let root = TT.scratch("inf", self)
        let out = root + "/out"
        var tree = TT.tinyTree(outputDir: out, steps: 50)
        tree["checkpoint"] = ["every_steps": 1, "keep_last": 3]
        let config = try TT.writeConfig(tree, to: root + "/tiny.json")
        let good = try TT.run("vmae-train", ["--config", config, "--quiet", "--stop-at", "2"], scratch: root)
        XCTAssertEqual(good.status, 0, good.stderr)
        // lr 1e38: the update overflows float32 at once
        let r = try TT.run("vmae-train", ["--config", config, "--quiet", "--resume", "auto", "--set", "optim.lr=1e38",
                                          "--set", "optim.warmup_steps=0"], scratch: root)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderrLines.count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("step 3"), r.stderr)
        XCTAssertEqual(checkpointsAllRead(out), [1, 2])
        XCTAssertEqual(TT.temporaries(out), [])
    }
}
