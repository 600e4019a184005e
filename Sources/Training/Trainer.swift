import Autodiff
import Checkpoint
import DataPipeline
import Distributed
import ExitStatus
import Foundation
import NN
import Optim
import RunConfig
import TensorCore
import VideoMAE

/// What a finished (or stopped) run reports.
public struct RunSummary {
    public var firstStep: Int
    public var lastStep: Int          // steps completed
    public var totalSteps: Int
    public var losses: [Double]
    public var checkpoint: String?
    public var stoppedBySignal = false
}

/// The training loop, read top to bottom (nanoGPT's way): build the data, the model and the
/// optimizer from the config; resume if asked; then for each step take a batch, draw masks,
/// forward, backward, clip, step with the scheduled lr; log; checkpoint.
public final class Trainer {
    public let cfg: TrainConfig
    public let stopAt: Int?
    public let resume: String?
    public let quiet: Bool
    public let evalOnly: Bool

    public init(config: TrainConfig, stopAt: Int? = nil, resume: String? = nil, quiet: Bool = false, evalOnly: Bool = false) {
        self.cfg = config
        self.evalOnly = evalOnly
        self.stopAt = stopAt
        self.resume = resume ?? config.checkpoint.resume
        self.quiet = quiet
    }

    func say(_ s: String) { if !quiet && Communicator.world.isWriter { print(s) } }

    public func run() throws -> RunSummary {
        // optim.precision: the GEMMs (linear layers and attention) in fp32 or bf16 for this run (validated with the config)
        if let why = BLAS.setPrecision(cfg.gemmPrecision) { throw UserError("optim.precision: \(why)") }
        defer { _ = BLAS.setPrecision(.fp32) }
        guard cfg.task == "pretrain" else { return try FinetuneRunner(trainer: self).run() }
        let seed = UInt64(bitPattern: Int64(cfg.seed))
        let world = Communicator.world   // one process, or this rank of a data-parallel run

        // ---- data: this rank's share of each global batch ----------------------------------
        let dataset = try makeTrainDataset(cfg)
        let loader = BatchLoader(dataset: dataset, batchSize: cfg.optim.batch_size, seed: seed, workers: cfg.data.num_workers)
        guard loader.stepsPerEpoch > 0 else {
            throw UserError("data.train_list: \(dataset.count) clips is fewer than one batch of optim.batch_size \(cfg.optim.batch_size)" +
                            (world.size > 1 ? " × \(world.size) ranks" : ""))
        }

        // ---- model and optimizer ---------------------------------------------------------
        let mc = cfg.modelConfig(numClasses: max(dataset.classNames.count, 1))
        let model = PretrainModel(mc)
        model.mean = cfg.data.mean.map(Float.init)
        model.std = cfg.data.std.map(Float.init)
        model.initialize(seed: seed)
        let params = model.namedParameters()
        let opt = AdamW(params, beta1: Float(cfg.optim.betas[0]), beta2: Float(cfg.optim.betas[1]), eps: Float(cfg.optim.eps))
        let maskGen = MaskGenerator(MaskType(rawValue: cfg.mask.type)!, ratio: cfg.mask.ratio, config: mc)
        let decoderMask = (cfg.mask.decoder_ratio ?? 0) > 0 ? RunningCellMask(ratio: cfg.mask.decoder_ratio!, config: mc) : nil

        // ---- output dir, resume (rank 0 reads the checkpoint; the others get it from rank 0) ---
        let store = try prepareOutputDir(cfg, writeConfig: false)
        var step = 0
        if let ck = try findResume(store) {
            try checkCompatible(ck)
            try ModelState.load(model, from: ck.ck, path: ck.path)
            try ModelState.loadMoments(opt, from: ck.ck, path: ck.path)
            opt.stepCount = Int(ck.ck.ints["optimizer_step"]?.first ?? Int64(ck.ck.step))
            step = ck.ck.step
            if let note = loader.resume(atStep: step, from: ck.ck) { say("note: " + note) }
            say("resumed from \(ck.path) at step \(step)")
        }
        try startDataParallel(params, opt, step: &step, loader: loader)
        writeResolvedConfig(cfg)   // only once a resume was accepted: a refused run leaves the old one

        // ---- schedule: a pure function of the step ---------------------------------------
        // (of where the step is in the data when the run resumed with another global batch)
        let total = loader.totalSteps(epochs: cfg.optim.epochs, maxSteps: cfg.optim.max_steps)
        let scheduleTotal = cfg.optim.max_steps ?? cfg.optim.epochs * loader.stepsPerEpoch
        let warmup = cfg.optim.warmup_steps ?? Int(cfg.optim.warmup_epochs * Double(loader.stepsPerEpoch))
        let lrAt = CosineSchedule(base: cfg.optim.lr, final: cfg.optim.min_lr, totalSteps: scheduleTotal, warmupSteps: warmup)
        let wdAt = CosineSchedule(base: cfg.optim.weight_decay, final: cfg.optim.weight_decay_end ?? cfg.optim.weight_decay,
                                  totalSteps: scheduleTotal)
        let end = min(total, stopAt ?? total)
        let perStep = world.size > 1 ? "batch \(cfg.optim.batch_size) × \(world.size) ranks = \(loader.globalBatch) clips/step, " : ""
        say("pretraining \(mc.encoder_embed_dim)/\(mc.encoder_depth) encoder, \(model.parameterCount) parameters, " +
            "\(dataset.count) clips, \(perStep)\(loader.stepsPerEpoch) steps/epoch, steps \(step)..<\(end) of \(total)")

        StopSignal.install()
        tensorBoard = openTensorBoard(startStep: step)
        let progress = Progress(total: total, metricsPath: cfg.output_dir + "/metrics.jsonl", quiet: quiet, startStep: step,
                                tensorBoard: tensorBoard)
        defer { progress.finish() }
        var summary = RunSummary(firstStep: step, lastStep: step, totalSteps: total, losses: [])
        let paramVars = params.map(\.1)
        let sync = GradientSync(paramVars)   // the step's one allreduce (nothing in a plain run)
        var lastSaved: String? = nil

        // every rank checks (the replicas are identical, so they agree); rank 0 writes
        func saveCheckpoint() throws {
            guard ModelState.allFinite(model) else {
                throw agreed(TrainingFailure("parameters are not finite at step \(step); not saving"))
            }
            try verifyReplicas(paramVars, opt, step: step, warn: { if world.isWriter { printErr($0) } })
            guard world.isWriter else { return }
            let (m, v) = ModelState.moments(opt)
            let ck = Checkpoint(task: cfg.task, step: step, epoch: loader.position(ofStep: step).epoch, config: cfg.json(),
                                model: ModelState.tensors(of: model), expAvg: m, expAvgSq: v,
                                ints: (["optimizer_step": [Int64(opt.stepCount)], "seed": [Int64(cfg.seed)],
                                        "next_step": [Int64(step)]] as [String: [Int64]])
                                    .merging(loader.stateInts(nextStep: step)) { _, new in new },
                                strings: ["class_names": jsonString(dataset.classNames)])
            try store.save(ck, step: step)
            lastSaved = store.path(step: step)
            progress.say("saved \(lastSaved!)")
            afterCheckpoint?(model, step)
            HeapTrim.release()
        }

        // ---- the loop --------------------------------------------------------------------
        while step < end {
            let t0 = Date()
            var epoch = 0
            var lossValue = Double.nan
            var trivialLoss = Double.nan   // the mean predictor's loss, on logged steps only
            var failure: Error? = nil
            let logThis = (step + 1) % cfg.log.every_steps == 0 || step + 1 == end
            model.zeroGrad()
            do {
                let batch = try loader.next(step: step, lastStep: end)
                epoch = batch.epoch
                // masks from (seed, epoch, global sample index): the same for any number of ranks
                var maskRngs = batch.indices.map { RNG(seed, UInt64(batch.epoch), UInt64($0), 0x3A5C) }
                let encoderMask = maskGen.batch(&maskRngs)
                let mask = decoderMask.map { $0.apply(to: encoderMask, &maskRngs) } ?? encoderMask  // V2 dual masking
                let ctx = ForwardContext(training: true, rng: world.rank == 0 ? RNG(seed, UInt64(step), 0xD409)
                                                                          : RNG(seed, UInt64(step), 0xD409, UInt64(world.rank)))
                let loss = model.loss(batch.pixels, mask: mask, ctx)
                lossValue = Double(loss.value[flat: 0])
                if logThis {
                    trivialLoss = meanPredictorLoss(batch.pixels, mask: mask, tubelet: mc.tubelet_size, patch: mc.patch_size,
                                                    mean: model.mean, std: model.std, normalize: mc.normalize_target)
                }
                if lossValue.isFinite { loss.backward() } else { Tape.clear() }
            } catch {
                if world.size == 1 { throw error }
                failure = error   // every rank stops with it at the allreduce
            }
            // gradients averaged over the ranks; the mean loss of the global batch
            let reduced = try sync.reduce(loss: lossValue, trivialLoss: trivialLoss, failure: failure)
            lossValue = reduced.loss
            trivialLoss = reduced.trivialLoss
            let (gradNorm, lr, wd) = try updateParameters(loss: lossValue, step: step, params: paramVars, opt: opt, cfg: cfg,
                                                          loader: loader, lrAt: lrAt, wdAt: wdAt, lastSaved: lastSaved, store: store)
            step += 1
            summary.lastStep = step
            summary.losses.append(lossValue)

            let dt = Date().timeIntervalSince(t0)
            let clipsPerSec = Double(loader.globalBatch) / dt
            // loss / the mean predictor's loss: 1 is no better than predicting the visible mean colour
            let lossVsMean = logThis ? lossValue / trivialLoss : nil
            progress.show(step: step, epoch: epoch, loss: lossValue, lr: lr, clipsPerSec: clipsPerSec, force: logThis,
                          lossVsMean: lossVsMean)
            if logThis {
                // one parameter group: the smallest lr (the original's min_lr) is the lr
                var record: [String: Any] = ["step": step, "epoch": epoch, "loss": lossValue, "lr": lr, "min_lr": lr, "weight_decay": wd,
                                             "grad_norm": gradNorm, "clips_per_s": clipsPerSec, "step_s": dt,
                                             "data_wait_s": loader.lastWait, "trivial_loss": trivialLoss,
                                             "loss_vs_mean": lossVsMean ?? Double.nan,
                                             "encoder_tokens": model.encoder.lastTokenCount]
                if world.usesMPI {
                    record["ranks"] = world.size
                    record["effective_batch"] = loader.globalBatch
                    record["allreduce_s"] = sync.lastReduceSeconds
                }
                progress.record(record)
            }
            if step % cfg.checkpoint.every_steps == 0 || step == end || StopSignal.requested {
                try saveCheckpoint()
            }
            if StopSignal.requested { summary.stoppedBySignal = true; break }
        }
        summary.checkpoint = lastSaved ?? store.list().first?.path
        if Communicator.world.isWriter, let report = skippedFilesReport(dataset) { printErr("warning: \(report)") }
        return summary
    }

    /// Called after each checkpoint with the model and step (pictures hook in here).
    public var afterCheckpoint: ((PretrainModel, Int) -> Void)?

    /// The run's TensorBoard log (rank 0, `log.tensorboard`), open while `run` runs.
    public internal(set) var tensorBoard: TensorBoardLog?

    /// Opens `output_dir/tb/` for a run that starts after `startStep`, with the resolved config
    /// as its first text; nil when `log.tensorboard` is false or on ranks other than 0.
    func openTensorBoard(startStep: Int) -> TensorBoardLog? {
        guard cfg.log.tensorboard, let tb = TensorBoardLog(outputDir: cfg.output_dir, startStep: startStep) else { return nil }
        tb.config(cfg.json(), step: startStep)
        return tb
    }

    struct Found { let ck: Checkpoint; let path: String }

    /// `resume`: "auto" → newest readable checkpoint in output_dir (none: start fresh);
    /// a path → that file, which must read. Only rank 0 of a data-parallel run reads it (the
    /// others receive its state from rank 0: `startDataParallel`).
    func findResume(_ store: CheckpointStore) throws -> Found? {
        guard let r = resume, Communicator.world.isWriter else { return nil }
        if r == "auto" {
            guard let ck = store.latestReadable(warn: { printErr($0) }) else { return nil }
            return Found(ck: ck, path: store.path(step: ck.step))
        }
        do { return Found(ck: try Checkpoint.read(r), path: r) } catch let e as CheckpointError {
            throw UserError(e.description)
        }
    }

    func checkCompatible(_ f: Found) throws {
        guard f.ck.task == cfg.task else {
            throw UserError("\(f.path): a \(f.ck.task) checkpoint cannot resume a \(cfg.task) run")
        }
    }
}

/// A run that cannot go on (non-finite loss, …): exit status 1 with the reason.
public struct TrainingFailure: Error, CustomStringConvertible {
    public let message: String
    public init(_ m: String) { message = m }
    public var description: String { message }
}

/// `error` as every rank of a data-parallel run meets it (rank 0 reports it); itself in a plain run.
func agreed(_ error: Error, _ world: Communicator = .world) -> Error {
    guard world.size > 1 else { return error }
    return CollectiveFailure(underlying: error, code: failureLine(error).code, report: world.isWriter)
}

/// Makes output_dir, clears stale temporaries, writes the resolved config (unless the caller
/// does it later with `writeResolvedConfig`). Only rank 0 of a data-parallel run touches output_dir.
func prepareOutputDir(_ cfg: TrainConfig, writeConfig: Bool = true) throws -> CheckpointStore {
    guard Communicator.world.isWriter else { return CheckpointStore(dir: cfg.output_dir, keepLast: cfg.checkpoint.keep_last) }
    do {
        try FileManager.default.createDirectory(atPath: cfg.output_dir, withIntermediateDirectories: true)
    } catch {
        throw UserError("output_dir: cannot create \(cfg.output_dir) (\(error.localizedDescription))")
    }
    let store = CheckpointStore(dir: cfg.output_dir, keepLast: cfg.checkpoint.keep_last)
    try store.checkWritable()
    store.removeStaleTemporaries()
    if writeConfig { writeResolvedConfig(cfg) }
    return store
}

func writeResolvedConfig(_ cfg: TrainConfig) {
    guard Communicator.world.isWriter else { return }
    try? cfg.json().write(toFile: cfg.output_dir + "/config.json", atomically: true, encoding: .utf8)
}
