import Checkpoint
import Foundation
import TensorCore
import TestSupport
import Training
import XCTest

/// Exact resume: N steps in one go and N/2 + resume "auto" + the rest end in bitwise the same
/// parameters and AdamW moments.
final class ResumeTests: XCTestCase {
    /// Every tensor of /model and /optimizer compared byte for byte, and the resume state:
    /// the names of whatever differs.
    static func differences(_ a: Checkpoint, _ b: Checkpoint) -> [String] {
        var out: [String] = []
        if a.step != b.step { out.append("step \(a.step) vs \(b.step)") }
        for (group, x, y) in [("model", a.model, b.model), ("exp_avg", a.expAvg, b.expAvg), ("exp_avg_sq", a.expAvgSq, b.expAvgSq)] {
            if x.isEmpty { out.append("\(group) is empty") }
            if x.map(\.0) != y.map(\.0) { out.append("\(group) names") }
            let ys = Dictionary(y, uniquingKeysWith: { p, _ in p })
            for (n, t) in x {
                guard let u = ys[n], u.shape == t.shape, TT.bytes(u) == TT.bytes(t) else { out.append("\(group)/\(n)"); continue }
            }
        }
        if a.ints != b.ints { out.append("/state \(a.ints) vs \(b.ints)") }
        return out
    }

    func assertBitwiseEqual(_ a: Checkpoint, _ b: Checkpoint, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let d = Self.differences(a, b)
        XCTAssertTrue(d.isEmpty, "\(what): not bitwise equal: \(d)", file: file, line: line)
    }

    func straightVersusResumed(workers: Int, extra: [String] = [], steps: Int = 10, stopAt: Int = 5) throws {
        let root = TT.scratch("resume-w\(workers)", self)
        var tree = TT.tinyTree(outputDir: root + "/straight", steps: steps, workers: workers)
        // two epochs (16 clips / batch 2 = 8 steps each): the resume crosses an epoch boundary
        let straightCfg = try TT.config(tree, in: root, overrides: extra)
        let a = try Trainer(config: straightCfg, quiet: true).run()
        XCTAssertEqual(a.lastStep, steps)

        tree["output_dir"] = root + "/resumed"
        let cfg = try TT.config(tree, in: root, overrides: extra)
        let first = try Trainer(config: cfg, stopAt: stopAt, quiet: true).run()
        XCTAssertEqual(first.lastStep, stopAt)
        XCTAssertEqual(TT.checkpointFiles(root + "/resumed").last, String(format: "checkpoint-%08d.h5", stopAt))
        let second = try Trainer(config: cfg, resume: "auto", quiet: true).run()
        XCTAssertEqual(second.firstStep, stopAt, "resume auto must continue from the newest checkpoint")
        XCTAssertEqual(second.lastStep, steps)

        // the losses of the resumed half are the straight run's, bit for bit
        XCTAssertEqual(first.losses + second.losses, a.losses)

        let ckA = try Checkpoint.read(a.checkpoint!)
        let ckB = try Checkpoint.read(second.checkpoint!)
        XCTAssertEqual(URL(fileURLWithPath: a.checkpoint!).lastPathComponent, String(format: "checkpoint-%08d.h5", steps))
        assertBitwiseEqual(ckA, ckB, "workers \(workers)")
    }

    func testExactResumeNoWorkers() throws { try straightVersusResumed(workers: 0) }

    func testExactResumeTwoWorkers() throws { try straightVersusResumed(workers: 2) }

    /// Gradient clipping, drop path (randomness inside the model), random masking and a
    /// weight-decay schedule: every source of state must come back on resume.
    func testExactResumeWithClippingDropPathAndRandomMask() throws {
        try straightVersusResumed(workers: 1, extra: ["optim.clip_grad=0.05", "model.drop_path_rate=0.2", "mask.type=random",
                                                      "optim.weight_decay_end=0.2", "checkpoint.every_steps=3"],
                                  steps: 11, stopAt: 7)
    }

    /// Across processes (Swift's hashing is seeded per process, so any order taken from a
    /// dictionary would show here), through the binary, with two loader threads.
    func testExactResumeAcrossProcesses() throws {
        let root = TT.scratch("resume-proc", self)
        var tree = TT.tinyTree(outputDir: root + "/straight", steps: 12, workers: 2)
        let straight = try TT.writeConfig(tree, to: root + "/straight.json")
        tree["output_dir"] = root + "/resumed"
        let resumed = try TT.writeConfig(tree, to: root + "/resumed.json")
        for (cfg, args) in [(straight, [String]()), (resumed, ["--stop-at", "5"]), (resumed, ["--resume", "auto"])] {
            let r = try TT.run("vmae-train", ["--config", cfg, "--quiet"] + args, scratch: root)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let a = try Checkpoint.read(root + "/straight/checkpoint-00000012.h5")
        let b = try Checkpoint.read(root + "/resumed/checkpoint-00000012.h5")
        assertBitwiseEqual(a, b, "across processes")
    }

    /// The check can fail: one more step in the resumed run gives different parameters.
    func testBitwiseComparisonDetectsADifference() throws {
        let root = TT.scratch("resume-neg", self)
        let tree = TT.tinyTree(outputDir: root + "/a", steps: 4)
        let a = try Trainer(config: try TT.config(tree, in: root), stopAt: 3, quiet: true).run()
        var t2 = tree; t2["output_dir"] = root + "/b"
        let b = try Trainer(config: try TT.config(t2, in: root), stopAt: 3, quiet: true).run()
        var ckA = try Checkpoint.read(a.checkpoint!)
        let ckB = try Checkpoint.read(b.checkpoint!)
        assertBitwiseEqual(ckA, ckB, "two identical runs")
        // flip one bit of one moment
        let t = ckA.expAvgSq[3].1.copy()
        t.data[0] = Float(bitPattern: t.data[0].bitPattern ^ 1)
        ckA.expAvgSq[3].1 = t
        XCTAssertEqual(Self.differences(ckA, ckB), ["exp_avg_sq/" + ckA.expAvgSq[3].0], "one flipped bit must be found")
    }
}
