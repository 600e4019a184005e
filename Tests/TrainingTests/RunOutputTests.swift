import Checkpoint
import Foundation
import Optim
import TestSupport
import Training
import XCTest

/// What a run leaves behind: metrics.jsonl, checkpoints pruned to keep_last, and what
/// `vmae inspect` says about them.
final class RunOutputTests: XCTestCase {
    func metrics(_ dir: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "line: \($0)")
        }
    }

    /// The numbers of a line, read exactly (JSONDecoder; JSONSerialization on Linux may be an
    /// ulp off on 17-digit numbers).
    struct Record: Decodable {
        let step: Int, epoch: Int, loss: Double, lr: Double, grad_norm: Double, data_wait_s: Double
    }

    func records(_ dir: String) throws -> [Record] {
        let text = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
    }

    /// One JSON line per logged step with the documented keys; lr follows the schedule.
    func testMetricsLines() throws {
        let dir = TT.scratch("metrics", self)
        var tree = TT.tinyTree(outputDir: dir + "/out", steps: 10)
        tree["log"] = ["every_steps": 3]
        let cfg = try TT.config(tree, in: dir)
        let s = try Trainer(config: cfg, quiet: true).run()
        let lines = try metrics(dir + "/out")
        // every 3rd step, and the last
        XCTAssertEqual(lines.map { $0["step"] as? Int }, [3, 6, 9, 10])
        let lrAt = CosineSchedule(base: 1e-3, final: 1e-5, totalSteps: 10, warmupSteps: 2)
        for l in lines {
            for k in ["step", "epoch", "loss", "lr", "grad_norm", "clips_per_s", "data_wait_s", "trivial_loss",
                      "loss_vs_mean", "encoder_tokens"] {
                XCTAssertTrue(l[k] is NSNumber, "key \(k) missing or not a number in \(l)")
            }
            // the loss over the mean predictor's loss of the same batch
            let loss = (l["loss"] as! NSNumber).doubleValue, trivial = (l["trivial_loss"] as! NSNumber).doubleValue
            XCTAssertGreaterThan(trivial, 0)
            XCTAssertEqual((l["loss_vs_mean"] as! NSNumber).doubleValue, loss / trivial, accuracy: 1e-12)
            // 32²/8² = 16 positions, int(0.9 · 16) = 14 hidden (the default tube 90%), in 2 temporal groups
            XCTAssertEqual(l["encoder_tokens"] as? Int, 4)
        }
        for r in try records(dir + "/out") {
            XCTAssertEqual(r.epoch, (r.step - 1) / 8, "16 clips, batch 2: 8 steps per epoch")
            XCTAssertEqual(r.loss, s.losses[r.step - 1], "step \(r.step)")
            XCTAssertEqual(r.lr, lrAt(r.step - 1), "step \(r.step): the lr used for that step")
            XCTAssertGreaterThan(r.grad_norm, 0)
            XCTAssertGreaterThanOrEqual(r.data_wait_s, 0)
        }
    }

    /// A resumed run continues the file: each logged step once, even when the previous run got
    /// past its last checkpoint before it died.
    func testMetricsAfterResumeHaveEachStepOnce() throws {
        let dir = TT.scratch("metrics-resume", self)
        var tree = TT.tinyTree(outputDir: dir + "/out", steps: 8)
        tree["checkpoint"] = ["every_steps": 3, "keep_last": 5]
        let cfg = try TT.config(tree, in: dir)
        _ = try Trainer(config: cfg, stopAt: 5, quiet: true).run()
        // simulate a crash after step 5: the checkpoint of step 5 is lost, step 3's remains
        try FileManager.default.removeItem(atPath: dir + "/out/checkpoint-00000005.h5")
        let s = try Trainer(config: cfg, resume: "auto", quiet: true).run()
        XCTAssertEqual(s.firstStep, 3)
        XCTAssertEqual(try metrics(dir + "/out").map { $0["step"] as? Int }, Array(1...8))
    }

    func testKeepLast() throws {
        let dir = TT.scratch("keep", self)
        var tree = TT.tinyTree(outputDir: dir + "/out", steps: 5)
        tree["checkpoint"] = ["every_steps": 1, "keep_last": 2]
        let cfg = try TT.config(tree, in: dir)
        _ = try Trainer(config: cfg, quiet: true).run()
        XCTAssertEqual(TT.checkpointFiles(dir + "/out"), ["checkpoint-00000004.h5", "checkpoint-00000005.h5"])
        // and after a resume that goes on
        var more = tree; more["optim"] = (tree["optim"] as! [String: Any]).merging(["max_steps": 7]) { $1 }
        _ = try Trainer(config: try TT.config(more, in: dir), resume: "auto", quiet: true).run()
        XCTAssertEqual(TT.checkpointFiles(dir + "/out"), ["checkpoint-00000006.h5", "checkpoint-00000007.h5"])
        for f in TT.checkpointFiles(dir + "/out") { XCTAssertNoThrow(try Checkpoint.read(dir + "/out/" + f)) }
    }

    /// `vmae inspect`: task, step, epoch, the parameter count, every tensor's name and shape.
    func testInspectPrintsTheCheckpoint() throws {
        let dir = TT.scratch("inspect", self)
        let cfg = try TT.config(TT.tinyTree(outputDir: dir + "/out", steps: 3), in: dir)
        let path = try XCTUnwrap(try Trainer(config: cfg, quiet: true).run().checkpoint)
        let ck = try Checkpoint.read(path)
        let r = try TT.run("vmae", ["inspect", path], scratch: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = r.stdout
        XCTAssertTrue(out.contains("task pretrain"), out)
        XCTAssertTrue(out.contains("step 3"), out)
        XCTAssertTrue(out.contains("epoch \(ck.epoch)"), out)
        let count = ck.model.reduce(0) { $0 + $1.1.count }
        XCTAssertEqual(count, 48080)
        XCTAssertTrue(out.contains("parameters \(count)"), out)
        XCTAssertFalse(out.contains("<null>"), "nulls are printed as JSON null or '-': \(out)")
        let lines = Set(out.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        for (n, t) in ck.model {
            XCTAssertTrue(lines.contains("\(n) \(t.shape)"), "no line for \(n) \(t.shape)")
        }
    }
}
