import Autodiff
import Checkpoint
import DataPipeline
import Distributed
import Foundation
import TensorCore
import TestSupport
import XCTest

@testable import ExitStatus
@testable import Training

/// Data-parallel training over MPI. The first tests need no MPI (how the loader shares out a
/// global batch, where a resumed run continues, that a plain run stays plain); the others start
/// the built `vmae-train` under `mpirun -np 2` (Open MPI from scripts/install-deps.sh) and
/// compare with one process.
final class DistributedTests: XCTestCase {

    // MARK: without MPI

    /// K ranks with batch b take, step by step, exactly the samples of one process with batch K·b
    /// (rank r the r-th run of b), over epoch ends.
    func testRanksTogetherTakeTheGlobalBatchOfOneProcess() throws {
        let ds = RandomClips(count: 23, frames: 2, size: 8)
        for k in [2, 3] {
            let one = BatchLoader(dataset: ds, batchSize: 2 * k, seed: 5, workers: 0, rank: 0, worldSize: 1)
            let ranks = (0..<k).map { BatchLoader(dataset: ds, batchSize: 2, seed: 5, workers: 0, rank: $0, worldSize: k) }
            XCTAssertEqual(ranks[0].stepsPerEpoch, one.stepsPerEpoch)
            XCTAssertEqual(ranks[0].globalBatch, 2 * k)
            for step in 0..<(3 * one.stepsPerEpoch + 1) {
                let whole = try one.load(step: step)
                let parts = try ranks.map { try $0.load(step: step) }
                XCTAssertEqual(parts.flatMap(\.indices), whole.indices, "K=\(k) step \(step)")
                XCTAssertTrue(parts.allSatisfy { $0.epoch == whole.epoch && $0.offset == whole.offset && $0.lastOfEpoch == whole.lastOfEpoch })
                // what a sample gets depends on (seed, epoch, global index) only
                let per = parts[0].pixels.count
                for (r, p) in parts.enumerated() {
                    XCTAssertEqual(Array(UnsafeBufferPointer(start: p.pixels.data, count: per)),
                                   Array(UnsafeBufferPointer(start: whole.pixels.data + r * per, count: per)))
                }
            }
        }
    }

    /// A checkpoint stores the global data position; a run with another global batch continues
    /// there (no sample of the epoch seen twice or skipped), and an epoch-based schedule still
    /// ends after its epochs.
    func testResumeWithAnotherGlobalBatchContinuesAtTheDataPosition() throws {
        let ds = RandomClips(count: 16, frames: 2, size: 8)
        let before = BatchLoader(dataset: ds, batchSize: 2, seed: 1, workers: 0, rank: 0, worldSize: 2)   // G = 4
        XCTAssertEqual(before.position(ofStep: 3), DataPosition(epoch: 0, offset: 12))
        let ints = before.stateInts(nextStep: 3)
        XCTAssertEqual(ints["data_epoch"], [0])
        XCTAssertEqual(ints["data_offset"], [12])
        XCTAssertEqual(ints["global_batch"], [4])
        XCTAssertEqual(ints["world_size"], [2])
        let ck = Checkpoint(task: "pretrain", step: 3, epoch: 0, config: "{}", model: [], ints: ints)

        let after = BatchLoader(dataset: ds, batchSize: 2, seed: 1, workers: 0, rank: 0, worldSize: 1)    // G = 2
        let note = after.resume(atStep: 3, from: ck)
        XCTAssertNotNil(note)
        XCTAssertEqual(after.position(ofStep: 3), DataPosition(epoch: 0, offset: 12))
        XCTAssertEqual(after.position(ofStep: 4), DataPosition(epoch: 0, offset: 14))
        XCTAssertEqual(after.position(ofStep: 5), DataPosition(epoch: 1, offset: 0))
        XCTAssertEqual(after.position(ofStep: 12), DataPosition(epoch: 1, offset: 14))
        XCTAssertEqual(after.position(ofStep: 13), DataPosition(epoch: 2, offset: 0))
        XCTAssertTrue(try after.load(step: 4).lastOfEpoch)
        // the rest of epoch 0 is the samples the 4-wide run had not taken yet
        let seen = try (0..<3).flatMap { try before.load(step: $0).indices } +
                   (0..<3).flatMap { try BatchLoader(dataset: ds, batchSize: 2, seed: 1, workers: 0, rank: 1, worldSize: 2).load(step: $0).indices }
        let rest = try (3..<5).flatMap { try after.load(step: $0).indices }
        XCTAssertEqual(Set(seen + rest), Set(0..<16))
        XCTAssertEqual(seen.count + rest.count, 16)
        // 2 epochs: steps 3, 4 end epoch 0, then 8 steps of epoch 1
        XCTAssertEqual(after.totalSteps(epochs: 2, maxSteps: nil), 13)
        XCTAssertEqual(after.totalSteps(epochs: 2, maxSteps: 50), 50)
        // the schedule goes on from where the data is: 12 of 16 samples = 6 batches of 2 into epoch 0
        XCTAssertEqual(after.scheduleStep(3, maxSteps: nil), 6)
        XCTAssertEqual(after.scheduleStep(5, maxSteps: nil), 8)
        XCTAssertEqual(after.scheduleStep(3, maxSteps: 50), 3)

        // same global batch: the plain step mapping, unchanged
        let same = BatchLoader(dataset: ds, batchSize: 4, seed: 1, workers: 0, rank: 0, worldSize: 1)
        XCTAssertNil(same.resume(atStep: 3, from: ck))
        for s in 0..<20 {
            XCTAssertEqual(same.position(ofStep: s), DataPosition(epoch: s / 4, offset: (s % 4) * 4))
            XCTAssertEqual(same.scheduleStep(s, maxSteps: nil), s)
        }
        XCTAssertEqual(same.totalSteps(epochs: 3, maxSteps: nil), 12)
        // a checkpoint without a data position (older ones): step s is batch s as before
        let old = BatchLoader(dataset: ds, batchSize: 2, seed: 1, workers: 0, rank: 0, worldSize: 1)
        old.resume(atStep: 3, from: Checkpoint(task: "pretrain", step: 3, epoch: 0, config: "{}", model: []))
        XCTAssertEqual(old.position(ofStep: 9), DataPosition(epoch: 1, offset: 2))
    }

    /// Without a launcher nothing touches MPI: the world is one process, the gradient
    /// allreduce changes nothing.
    func testPlainRunsNeverStartMPI() throws {
        XCTAssertFalse(Communicator.launchedByMPI([:]))
        XCTAssertFalse(Communicator.launchedByMPI(["PATH": "/usr/bin", "OMPI_MCA_btl": "self"]))
        XCTAssertTrue(Communicator.launchedByMPI(["OMPI_COMM_WORLD_SIZE": "2"]))
        XCTAssertTrue(Communicator.launchedByMPI(["PMIX_RANK": "0"]))
        XCTAssertFalse(Communicator.launchedByMPI(), "the tests must not run under mpirun")
        XCTAssertFalse(try Communicator.initializeIfLaunched(env: [:]).usesMPI)
        XCTAssertFalse(Communicator.world.usesMPI)
        XCTAssertEqual(Communicator.world.size, 1)

        let p = Variable(Tensor(shape: [3], values: [1, 2, 3]), requiresGrad: true)
        p.gradBuffer().copy(from: Tensor(shape: [3], values: [0.5, -1, 2]))
        let sync = GradientSync([p])
        let out = try sync.reduce(loss: 1.25)
        XCTAssertEqual(out.loss, 1.25)
        XCTAssertEqual(p.grad!.array, [0.5, -1, 2])
        XCTAssertThrowsError(try sync.reduce(loss: 0, failure: UserError("x"))) { XCTAssertTrue($0 is UserError) }

        // the binary, run plainly, says nothing of ranks
        let root = TT.scratch("plain", self)
        let cfg = try TT.writeConfig(TT.tinyTree(outputDir: root + "/out", steps: 2), to: root + "/c.json")
        let r = try TT.run("vmae-train", ["--config", cfg], scratch: root)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains("data-parallel"), r.stdout)
        XCTAssertFalse(r.stdout.contains("rank"), r.stdout)
    }

    // MARK: under mpirun

    /// 2 ranks × batch 2 against 1 process × batch 4: after 5 steps every parameter tensor
    /// agrees within 1e-4 of its largest magnitude; rank 0 alone logs and writes.
    func testTwoRanksFollowOneProcessWithTwiceTheBatch() throws {
        let root = TT.scratch("dp2", self)
        let one = try runOne(root, "one", TT.tinyTree(outputDir: root + "/one", steps: 5), ["--set", "optim.batch_size=4"])
        XCTAssertEqual(one.status, 0, one.stderr)
        let two = try mpirun(2, root, "two", TT.tinyTree(outputDir: root + "/two", steps: 5), [])
        XCTAssertEqual(two.status, 0, two.stderr)

        let a = try Checkpoint.read(root + "/one/checkpoint-00000005.h5")
        let b = try Checkpoint.read(root + "/two/checkpoint-00000005.h5")
        assertClose(a, b, tolerance: 1e-4)
        print("2 ranks × 2 vs 1 × 4 after 5 steps: largest difference \(worstDifference(a, b))")
        // the comparison can fail: one process with batch 2 (half the data) ends elsewhere
        let half = try runOne(root, "half", TT.tinyTree(outputDir: root + "/half", steps: 5), [])
        XCTAssertEqual(half.status, 0, half.stderr)
        XCTAssertGreaterThan(worstDifference(a, try Checkpoint.read(root + "/half/checkpoint-00000005.h5")).rel, 1e-2)
        // one rank under mpirun is a plain run, bit for bit
        let single = try mpirun(1, root, "single", TT.tinyTree(outputDir: root + "/single", steps: 5), ["--set", "optim.batch_size=4"])
        XCTAssertEqual(single.status, 0, single.stderr)
        XCTAssertEqual(ResumeTests.differences(a, try Checkpoint.read(root + "/single/checkpoint-00000005.h5")), [])
        XCTAssertEqual(b.ints["world_size"], [2])
        XCTAssertEqual(b.ints["global_batch"], [4])
        XCTAssertEqual(a.ints["data_offset"], b.ints["data_offset"])
        XCTAssertEqual(a.ints["data_epoch"], b.ints["data_epoch"])

        // one voice: one config print, one summary, one metrics line per step
        XCTAssertEqual(two.stdout.components(separatedBy: "pretraining ").count - 1, 1, two.stdout)
        XCTAssertEqual(two.stdout.components(separatedBy: "done: ").count - 1, 1, two.stdout)
        let cores = ProcessInfo.processInfo.processorCount
        XCTAssertTrue(two.stdout.contains("data-parallel: 2 ranks × batch 2 = effective batch 4; \(max(1, cores / 2)) thread"), two.stdout)
        let lines = try metrics(root + "/two")
        XCTAssertEqual(lines.compactMap { $0["step"] as? Int }, [1, 2, 3, 4, 5])
        XCTAssertTrue(lines.allSatisfy { ($0["effective_batch"] as? Int) == 4 && ($0["ranks"] as? Int) == 2 && $0["allreduce_s"] is Double })
        let oneLosses = try metrics(root + "/one").compactMap { $0["loss"] as? Double }
        let twoLosses = lines.compactMap { $0["loss"] as? Double }
        XCTAssertEqual(oneLosses.count, 5)
        for (x, y) in zip(oneLosses, twoLosses) { XCTAssertEqual(x, y, accuracy: 1e-5 * max(1, abs(x))) }
    }

    /// A run resumes with another number of ranks: 2 ranks to step 3, then one process with the
    /// same global batch follows the 2-rank run; and with half the global batch, the data goes on
    /// from where it was and the 2-epoch schedule ends after 2 epochs.
    func testResumeWithAnotherNumberOfRanks() throws {
        let root = TT.scratch("dp-resume", self)
        var tree = TT.tinyTree(outputDir: root + "/straight", steps: 5)
        XCTAssertEqual(try mpirun(2, root, "straight", tree, []).status, 0)
        tree["output_dir"] = root + "/switched"
        let first = try mpirun(2, root, "switched", tree, ["--stop-at", "3"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let second = try runOne(root, "switched", tree, ["--resume", "auto", "--set", "optim.batch_size=4"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("resumed from"), second.stdout)
        assertClose(try Checkpoint.read(root + "/straight/checkpoint-00000005.h5"),
                    try Checkpoint.read(root + "/switched/checkpoint-00000005.h5"), tolerance: 1e-4)

        // epochs instead of max_steps; 16 clips; 2 ranks × 2 = 4 per step → 4 steps an epoch
        var ep = TT.tinyTree(outputDir: root + "/epochs", steps: 5)
        var optim = ep["optim"] as! [String: Any]
        optim["max_steps"] = NSNull()
        optim["epochs"] = 2
        ep["optim"] = optim
        let e1 = try mpirun(2, root, "epochs", ep, ["--stop-at", "3"])
        XCTAssertEqual(e1.status, 0, e1.stderr)
        let ck3 = try Checkpoint.read(root + "/epochs/checkpoint-00000003.h5")
        XCTAssertEqual(ck3.ints["data_epoch"], [0])
        XCTAssertEqual(ck3.ints["data_offset"], [12])
        // one process × 2 per step: the 4 clips left of epoch 0 (2 steps), then 8 steps of epoch 1
        let e2 = try runOne(root, "epochs", ep, ["--resume", "auto"])
        XCTAssertEqual(e2.status, 0, e2.stderr)
        XCTAssertTrue(e2.stdout.contains("global batch of 4 (2 ranks)"), e2.stdout)
        XCTAssertTrue(e2.stdout.contains("steps 3..<13 of 13"), e2.stdout)
        let last = try Checkpoint.read(root + "/epochs/checkpoint-00000013.h5")
        XCTAssertEqual(last.ints["data_epoch"], [2])
        XCTAssertEqual(last.ints["data_offset"], [0])
        XCTAssertEqual(last.ints["world_size"], [1])
    }

    /// A tiny fine-tuning run: 3 classes, 11 random val videos, no drop path, mixing off (each rank
    /// mixes its own local batch, its partner within the rank as DDP with timm, so 2 × 2 clips
    /// cannot equal one batch of 4 once mixed; these tests are about the ranks agreeing).
    func finetuneTree(outputDir: String, steps: Int) -> [String: Any] {
        var t = TT.tinyTree(outputDir: outputDir, steps: steps)
        t["task"] = "finetune"
        var model = t["model"] as! [String: Any]
        model["num_classes"] = 3
        model["drop_path_rate"] = 0.0
        t["model"] = model
        var data = t["data"] as! [String: Any]
        data["val_list"] = "random:11"
        t["data"] = data
        t["finetune"] = ["mixup": 0.0, "cutmix": 0.0]
        return t
    }

    /// Fine-tuning with 2 ranks: the same parameters as one process with twice the batch, and the
    /// evaluation, sharded over the ranks, counts every video once: the same accuracy.
    func testFineTuningAndShardedEvaluationMatchOneProcess() throws {
        let root = TT.scratch("dp-ft", self)
        func tree(_ name: String) -> [String: Any] { finetuneTree(outputDir: root + "/" + name, steps: 4) }
        let one = try runOne(root, "one", tree("one"), ["--set", "optim.batch_size=4"])
        XCTAssertEqual(one.status, 0, one.stderr)
        let two = try mpirun(2, root, "two", tree("two"), [])
        XCTAssertEqual(two.status, 0, two.stderr)
        assertClose(try Checkpoint.read(root + "/one/checkpoint-00000004.h5"),
                    try Checkpoint.read(root + "/two/checkpoint-00000004.h5"), tolerance: 1e-4)
        let evalOne = try metrics(root + "/one").filter { $0["val_top1"] != nil }
        let evalTwo = try metrics(root + "/two").filter { $0["val_top1"] != nil }
        XCTAssertEqual(evalOne.count, 1)
        XCTAssertEqual(evalTwo.count, 1)
        XCTAssertEqual(evalTwo.first?["val_videos"] as? Int, 11)
        XCTAssertEqual(evalOne.first?["val_top1"] as? Double, evalTwo.first?["val_top1"] as? Double)
        XCTAssertEqual(evalOne.first?["val_top5"] as? Double, evalTwo.first?["val_top5"] as? Double)
        XCTAssertEqual(evalOne.first?["val_loss"] as? Double ?? 0, evalTwo.first?["val_loss"] as? Double ?? 1, accuracy: 1e-3)
        let csv = try String(contentsOfFile: root + "/two/confusion_matrix.csv", encoding: .utf8)
        XCTAssertEqual(csv, try String(contentsOfFile: root + "/one/confusion_matrix.csv", encoding: .utf8))

        // --eval-only, sharded as well
        let ev = try mpirun(2, root, "two", tree("two"), ["--eval-only", "--resume", root + "/two/checkpoint-00000004.h5"])
        XCTAssertEqual(ev.status, 0, ev.stderr)
        XCTAssertEqual(ev.stdout.components(separatedBy: "top-1 ").count - 1, 1, ev.stdout)
        XCTAssertTrue(ev.stdout.contains("(11 videos × 1 views"), ev.stdout)
    }

    // MARK: faults

    /// A rank killed mid-run ends the whole run within seconds (mpirun notices and ends the
    /// others), with a line naming it; the last checkpoint reads.
    func testAKilledRankEndsTheRunAndTheLastCheckpointIsIntact() throws {
        let root = TT.scratch("dp-kill", self)
        var tree = TT.tinyTree(outputDir: root + "/out", steps: 1_000_000)
        tree["checkpoint"] = ["every_steps": 20, "keep_last": 2]
        let run = try startMPI(2, root, "out", tree, ["--quiet"])
        let deadline = Date().addingTimeInterval(60)
        while TT.checkpointFiles(root + "/out").isEmpty && run.process.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertFalse(TT.checkpointFiles(root + "/out").isEmpty, "no checkpoint before the kill")
        let ranks = rankPids(of: run.pid)
        guard let victim = ranks[1] else { XCTFail("rank 1 not found among \(ranks)"); _ = run.wait(timeout: 1); return }
        let t0 = Date()
        kill(victim, SIGKILL)
        let r = run.wait(timeout: 30)
        let took = Date().timeIntervalSince(t0)
        XCTAssertLessThan(took, 15, "the run must end within seconds, not hang")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("rank 1") && r.stderr.contains("signal 9"), r.stderr)
        for f in TT.checkpointFiles(root + "/out") { XCTAssertNoThrow(try Checkpoint.read(root + "/out/" + f), f) }
        XCTAssertEqual(TT.temporaries(root + "/out").count, 0)
    }

    /// A rank that fails to start (here: a program that exits at once in its place) ends the run
    /// within seconds instead of leaving rank 0 waiting.
    func testARankThatFailsToStartEndsTheRun() throws {
        let root = TT.scratch("dp-start", self)
        let cfg = try TT.writeConfig(TT.tinyTree(outputDir: root + "/out", steps: 1000), to: root + "/c.json")
        let t0 = Date()
        let r = try startMpirun(try mpirunPath(), mpiFlags(1) + [try TT.binary("vmae-train"), "--config", cfg, "--quiet",
                                                            ":", "-np", "1", "/bin/false"], scratch: root).wait(timeout: 60)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 30)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("non-zero"), r.stderr)
    }

    /// A bad input that every rank meets is one line (rank 0's) and status 2; one that only
    /// rank 0 meets (the checkpoint to resume from, which only it reads) ends the others too.
    func testBadInputEndsEveryRankWithOneLine() throws {
        let root = TT.scratch("dp-bad", self)
        let tree = TT.tinyTree(outputDir: root + "/out", steps: 3)
        let all = try mpirun(2, root, "out", tree, ["--set", "data.train_list=" + root + "/missing.txt"])
        XCTAssertEqual(all.status, 2, all.stderr)
        let errs = all.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        XCTAssertEqual(errs.count, 1, all.stderr)
        XCTAssertTrue(errs.first?.contains("data.train_list") == true && errs.first?.contains("rank") == false, all.stderr)

        let one = try mpirun(2, root, "out", tree, ["--resume", root + "/missing.h5"])
        XCTAssertEqual(one.status, 2, one.stderr)
        XCTAssertEqual(one.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }.count, 1, one.stderr)
        XCTAssertTrue(one.stderr.contains("missing.h5"), one.stderr)
    }

    /// A non-finite loss stops every rank at the same step with status 1 and one line; the last
    /// good checkpoint stays.
    func testNonFiniteLossStopsEveryRank() throws {
        let root = TT.scratch("dp-nan", self)
        var tree = TT.tinyTree(outputDir: root + "/out", steps: 50)
        tree["checkpoint"] = ["every_steps": 1, "keep_last": 3]
        let r = try mpirun(2, root, "out", tree, ["--quiet", "--set", "optim.lr=1e30", "--set", "optim.warmup_steps=0"])
        XCTAssertEqual(r.status, 1, r.stderr)
        let errs = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        XCTAssertEqual(errs.count, 1, r.stderr)
        XCTAssertTrue(errs.first?.contains("loss is nan at step 2") == true, r.stderr)
        XCTAssertEqual(TT.checkpointFiles(root + "/out"), ["checkpoint-00000001.h5"])
        XCTAssertNoThrow(try Checkpoint.read(root + "/out/checkpoint-00000001.h5"))
    }

    /// The same for fine-tuning: the ranks agree on the non-finite loss at the allreduce, so one
    /// line and status 1, not Open MPI's abort; the last good checkpoint stays.
    func testNonFiniteFineTuningLossStopsEveryRank() throws {
        let root = TT.scratch("dp-ft-nan", self)
        var tree = finetuneTree(outputDir: root + "/out", steps: 50)
        tree["checkpoint"] = ["every_steps": 1, "keep_last": 3]
        let r = try mpirun(2, root, "out", tree, ["--quiet", "--set", "optim.lr=1e30", "--set", "optim.warmup_steps=0"])
        XCTAssertEqual(r.status, 1, r.stderr)
        let errs = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        XCTAssertEqual(errs.count, 1, r.stderr)
        XCTAssertTrue(errs.first?.contains("loss is") == true && errs.first?.contains("at step") == true, r.stderr)
        XCTAssertFalse(r.stderr.contains("MPI_ABORT"), r.stderr)
        let files = TT.checkpointFiles(root + "/out")
        XCTAssertFalse(files.isEmpty, r.stderr)
        for f in files { XCTAssertNoThrow(try Checkpoint.read(root + "/out/" + f)) }
    }

    /// SIGUSR1 to mpirun (which passes it on to every rank): every rank stops after the same
    /// step, rank 0 saves a checkpoint, the run exits 0 and resumes from there.
    func testSIGUSR1StopsEveryRankWithACheckpoint() throws {
        let root = TT.scratch("dp-usr1", self)
        let tree = TT.tinyTree(outputDir: root + "/out", steps: 1_000_000)
        let run = try startMPI(2, root, "out", tree, ["--quiet"])
        let deadline = Date().addingTimeInterval(60)
        while (try? metrics(root + "/out").count) ?? 0 < 3 && run.process.isRunning && Date() < deadline { usleep(20_000) }
        kill(run.pid, SIGUSR1)
        let r = run.wait(timeout: 30)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("stopped at step"), r.stdout)
        let files = TT.checkpointFiles(root + "/out")
        XCTAssertEqual(files.count, 1)
        XCTAssertNoThrow(try Checkpoint.read(root + "/out/" + files[0]))
    }

    // MARK: helpers

    /// Each tensor of /model within `tolerance` × its largest magnitude.
    func assertClose(_ a: Checkpoint, _ b: Checkpoint, tolerance: Float, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.step, b.step, file: file, line: line)
        XCTAssertEqual(a.model.map(\.0), b.model.map(\.0), file: file, line: line)
        XCTAssertFalse(a.model.isEmpty, file: file, line: line)
        let worst = worstDifference(a, b)
        XCTAssertLessThanOrEqual(worst.rel, tolerance, "largest difference: \(worst.name), \(worst.rel) of its largest magnitude",
                                 file: file, line: line)
    }

    /// The tensor of /model that differs most, relative to its largest magnitude.
    func worstDifference(_ a: Checkpoint, _ b: Checkpoint) -> (name: String, rel: Float) {
        let other = Dictionary(b.model, uniquingKeysWith: { x, _ in x })
        var worst = (name: "", rel: Float(0))
        for (name, t) in a.model {
            guard let u = other[name], u.shape == t.shape else { return (name, .infinity) }
            var mx: Float = 0, diff: Float = 0
            for i in 0..<t.count {
                mx = max(mx, abs(t[flat: i]))
                diff = max(diff, abs(t[flat: i] - u[flat: i]))
            }
            let rel = diff / max(mx, 1e-12)
            if rel > worst.rel { worst = (name, rel) }
        }
        return worst
    }

    func metrics(_ dir: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8)
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func runOne(_ root: String, _ name: String, _ tree: [String: Any], _ args: [String]) throws -> TT.Result {
        let cfg = try TT.writeConfig(tree, to: root + "/\(name)-\(UUID().uuidString.prefix(6)).json")
        return try TT.run("vmae-train", ["--config", cfg] + args, scratch: root)
    }

    func mpirun(_ np: Int, _ root: String, _ name: String, _ tree: [String: Any], _ args: [String],
                timeout: Double = 120) throws -> TT.Result {
        try startMPI(np, root, name, tree, args).wait(timeout: timeout)
    }

    func startMPI(_ np: Int, _ root: String, _ name: String, _ tree: [String: Any], _ args: [String]) throws -> TT.Running {
        let cfg = try TT.writeConfig(tree, to: root + "/\(name)-\(UUID().uuidString.prefix(6)).json")
        return try startMpirun(try mpirunPath(), mpiFlags(np) + [try TT.binary("vmae-train"), "--config", cfg] + args, scratch: root)
    }

    /// Open MPI's launcher (a failure, not a skip, when it is missing: scripts/install-deps.sh
    /// installs openmpi-bin).
    func mpirunPath() throws -> String {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin"] {
            let p = dir + "/mpirun"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        XCTFail("mpirun is not installed (scripts/install-deps.sh installs libopenmpi-dev openmpi-bin)")
        throw CocoaError(.fileNoSuchFile)
    }

    /// One machine, shared memory only, any number of cores, as root too.
    func mpiFlags(_ np: Int) -> [String] { ["-np", "\(np)", "--bind-to", "none"] }

    /// The ranks mpirun started (pid by OMPI_COMM_WORLD_RANK).
    func rankPids(of mpirunPid: Int32) -> [Int: Int32] {
        var out: [Int: Int32] = [:]
        let procs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for p in procs {
            guard let pid = Int32(p),
                  let stat = try? String(contentsOfFile: "/proc/\(p)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == mpirunPid,
                  let env = FileManager.default.contents(atPath: "/proc/\(p)/environ") else { continue }
            for kv in env.split(separator: 0) {
                let s = String(decoding: kv, as: UTF8.self)
                if s.hasPrefix("OMPI_COMM_WORLD_RANK="), let r = Int(s.dropFirst("OMPI_COMM_WORLD_RANK=".count)) { out[r] = pid }
            }
        }
        return out
    }
}

/// `mpirun …` with its output in files, in an environment that lets it run anywhere a test may
/// run: as root, with more ranks than cores, over shared memory without the single-copy
/// mechanism some containers forbid.
func startMpirun(_ mpirun: String, _ args: [String], scratch: String) throws -> TT.Running {
    try TT.Running(mpirun, args, scratch: scratch, environment: [
        "OMPI_ALLOW_RUN_AS_ROOT": "1",
        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        "OMPI_MCA_rmaps_base_oversubscribe": "1",
        "OMPI_MCA_btl": "self,vader",
        "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
    ])
}
