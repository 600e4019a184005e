import Autodiff
import Checkpoint
import DataPipeline
import Distributed
import ExitStatus
import Foundation
import NN
import Optim
import Pictures
import RunConfig
import TensorCore
import VideoMAE

/// Fine-tuning (task "finetune"), read top to bottom like the pretraining loop: data, the
/// classifier (initialized from `checkpoint.init_from`), AdamW with layer-wise lr decay, the
/// same schedules; resume; then steps of softmax cross-entropy with label smoothing (on mixup /
/// cutmix soft targets unless `finetune.mixup` and `finetune.cutmix` are 0; clips with the
/// original's RandAugment, random erasing and repeated augmentation, `finetune.aa`, `reprob`,
/// `num_sample`); after every
/// epoch an evaluation on `data.val_list` (multi-view), a metrics line, and the best checkpoint
/// by top-1 kept as `checkpoint-best.h5`. `--eval-only` evaluates a fine-tuned checkpoint.
struct FinetuneRunner {
    let trainer: Trainer
    var cfg: TrainConfig { trainer.cfg }
    var seed: UInt64 { UInt64(bitPattern: Int64(cfg.seed)) }

    func say(_ s: String) { trainer.say(s) }

    func run() throws -> RunSummary {
        if trainer.evalOnly { return try evaluateOnly() }

        // ---- data ------------------------------------------------------------------------
        let dataset = try makeTrainDataset(cfg)
        let loader = BatchLoader(dataset: dataset, batchSize: cfg.optim.batch_size, seed: seed, workers: cfg.data.num_workers,
                                 repeats: cfg.finetune.num_sample)
        guard loader.stepsPerEpoch > 0 else {
            throw UserError("data.train_list: \(dataset.count) clips is fewer than one batch of optim.batch_size \(cfg.optim.batch_size)")
        }
        let classNames = namesFor(dataset.classNames, classes: cfg.model.num_classes ?? dataset.classNames.count)
        let k = classNames.count
        try checkLabels(dataset, classes: k, key: "data.train_list")
        let val = try cfg.data.val_list.map { try makeDataset(cfg, list: $0, key: "data.val_list", training: false) }
        if let val { try checkLabels(val, classes: k, key: "data.val_list") }

        // ---- model and optimizer ---------------------------------------------------------
        let mc = cfg.modelConfig(numClasses: k)
        let model = Classifier(mc)
        model.initialize(seed: seed)
        let freeze = cfg.finetune.freeze_encoder
        let (opt, trainable) = FinetuneRunner.optimizer(for: model, cfg)
        let smoothing = Float(cfg.optim.label_smoothing)
        let mixing = MixupSettings(cfg.finetune)

        // ---- schedule: a pure function of the step ---------------------------------------
        var total = cfg.optim.max_steps ?? cfg.optim.epochs * loader.stepsPerEpoch
        let warmup = cfg.optim.warmup_steps ?? Int(cfg.optim.warmup_epochs * Double(loader.stepsPerEpoch))
        let lrAt = CosineSchedule(base: cfg.optim.lr, final: cfg.optim.min_lr, totalSteps: total, warmupSteps: warmup)
        let wdAt = CosineSchedule(base: cfg.optim.weight_decay, final: cfg.optim.weight_decay_end ?? cfg.optim.weight_decay,
                                  totalSteps: total)

        // ---- output dir, resume or init --------------------------------------------------
        let store = CheckpointStore(dir: cfg.output_dir, keepLast: cfg.checkpoint.keep_last)
        var step = 0
        var best = -Double.infinity, bestStep = -1
        if let ck = try trainer.findResume(store) {
            try trainer.checkCompatible(ck)
            try ModelState.load(model, from: ck.ck, path: ck.path)
            try ModelState.loadMoments(opt, from: ck.ck, path: ck.path)
            opt.stepCount = Int(ck.ck.ints["optimizer_step"]?.first ?? Int64(ck.ck.step))
            step = ck.ck.step
            if let b = ck.ck.doubles["best_top1"]?.first { best = b }
            if let s = ck.ck.ints["best_step"]?.first { bestStep = Int(s) }
            if let note = loader.resume(atStep: step, from: ck.ck) { say("note: " + note) }
            say("resumed from \(ck.path) at step \(step)")
        } else if let initFrom = cfg.checkpoint.init_from {
            let from = try FinetuneInit.resolve(initFrom)
            let report = try FinetuneInit.load(model, path: from)
            for l in report.lines(path: from) { say(l) }
            let freshEncoder = report.new.filter { !$0.hasPrefix("fc_norm.") && !$0.hasPrefix("head.") }
            if !freshEncoder.isEmpty {
                printErr("warning: checkpoint.init_from \(from): \(freshEncoder.count) encoder tensors are not in the checkpoint " +
                         "and start from random values (e.g. \(freshEncoder[0])); is model.encoder_depth right?")
            }
        } else {
            say("checkpoint.init_from is null: the classifier starts from random weights (training from scratch)")
        }
        _ = try prepareOutputDir(cfg)   // once the resume or init was accepted
        try startDataParallel(model.namedParameters(), opt, step: &step, loader: loader)   // rank 0's state on every rank
        total = loader.totalSteps(epochs: cfg.optim.epochs, maxSteps: cfg.optim.max_steps)
        let end = min(total, stopAt ?? total)
        let views = cfg.finetune.test_num_segment * cfg.finetune.test_num_crop
        say("fine-tuning \(mc.encoder_embed_dim)/\(mc.encoder_depth) encoder\(freeze ? " (frozen: linear probe)" : ""), " +
            "\(k) classes, \(trainable.reduce(0) { $0 + $1.1.count }) trainable of \(model.parameterCount) parameters, " +
            "layer_decay \(cfg.optim.layer_decay), \(dataset.count) clips, \(loader.stepsPerEpoch) steps/epoch, " +
            "steps \(step)..<\(end) of \(total), " +
            (mixing.enabled ? "mixup \(mixing.mixup) / cutmix \(mixing.cutmix) (p \(mixing.prob), switch \(mixing.switchProb))"
                            : "no mixup/cutmix") +
            ", " + (cfg.finetune.randAugment.map { "RandAugment \($0)" } ?? "no RandAugment") +
            ", random erasing p \(cfg.finetune.reprob), \(cfg.finetune.num_sample) clip\(cfg.finetune.num_sample == 1 ? "" : "s") per video" +
            (val.map { ", evaluating \($0.count) videos × \(views) views after each epoch" } ?? ", no data.val_list: no evaluation"))

        StopSignal.install()
        let tensorBoard = trainer.openTensorBoard(startStep: step)
        trainer.tensorBoard = tensorBoard
        let progress = Progress(total: total, metricsPath: cfg.output_dir + "/metrics.jsonl", quiet: trainer.quiet, startStep: step,
                                tensorBoard: tensorBoard)
        // the smallest of the layer-decayed lrs (the original's min_lr): lr × the smallest scale
        let decay = LayerDecay(depth: mc.encoder_depth, decay: cfg.optim.layer_decay)
        let minScale = Double(trainable.map { decay.scale($0.0) }.min() ?? 1)
        defer { progress.finish() }
        var summary = RunSummary(firstStep: step, lastStep: step, totalSteps: total, losses: [])
        let paramVars = trainable.map(\.1)
        let sync = GradientSync(paramVars)   // the step's one allreduce (nothing in a plain run)
        var lastSaved: String? = nil
        let evaluator = val.map {
            Evaluator(dataset: $0, segments: cfg.finetune.test_num_segment, crops: cfg.finetune.test_num_crop,
                      batchSize: cfg.optim.batch_size, workers: cfg.data.num_workers, seed: seed)
        }

        func checkpoint() throws -> Checkpoint {
            guard ModelState.allFinite(model) else { throw TrainingFailure("parameters are not finite at step \(step); not saving") }
            let (m, v) = ModelState.moments(opt)
            return Checkpoint(task: cfg.task, step: step, epoch: loader.position(ofStep: step).epoch, config: cfg.json(),
                              model: ModelState.tensors(of: model), expAvg: m, expAvgSq: v,
                              ints: ["optimizer_step": [Int64(opt.stepCount)], "seed": [Int64(cfg.seed)],
                                     "next_step": [Int64(step)], "epoch_position": [Int64(step % loader.stepsPerEpoch)],
                                     "steps_per_epoch": [Int64(loader.stepsPerEpoch)], "best_step": [Int64(bestStep)]]
                                  .merging(loader.stateInts(nextStep: step)) { _, new in new },
                              doubles: best.isFinite ? ["best_top1": [best]] : [:],
                              strings: ["class_names": jsonString(classNames)])
        }
        func evaluate(epoch: Int) throws -> Bool {
            guard let evaluator else { return false }
            let r = try evaluator.run(model, classNames: classNames, progress: evaluationBar(evaluator, quiet: trainer.quiet))
            progress.record(["epoch": epoch, "step": step, "val_loss": r.loss, "val_top1": r.top1, "val_top5": r.top5,
                             "val_videos": r.videos, "val_views": r.views, "eval_s": r.seconds])
            if let tensorBoard {
                let picture = ConfusionPicture.render(r.confusion, classNames: classNames,
                                                      title: String(format: "step %d · top-1 %.2f%% · %d videos", step, r.top1, r.videos))
                tensorBoard.image("val/confusion", width: picture.width, height: picture.height, rgb: picture.rgb, step: step)
            }
            if Communicator.world.isWriter { try? r.writeReports(to: cfg.output_dir) }
            let improved = r.top1 > best
            if improved { best = r.top1; bestStep = step }
            progress.say(String(format: "eval step %d epoch %d: top-1 %.2f%%  top-5 %.2f%%  loss %.4f  (%d videos × %d views, %.1f s)%@",
                                step, epoch, r.top1, r.top5, r.loss, r.videos, r.views, r.seconds,
                                improved ? "  best so far" : String(format: "  (best %.2f%% at step %d)", best, bestStep)))
            return improved
        }

        // ---- the loop --------------------------------------------------------------------
        while step < end {
            let t0 = Date()
            let batch: Batch
            do {
                batch = try loader.next(step: step, lastStep: end)
            } catch {
                // every rank stops with it at this step's allreduce (as pretraining); a plain run throws it
                _ = try sync.reduce(loss: 0, failure: error)
                throw error
            }
            let ctx = ForwardContext(training: true, rng: RNG(seed, UInt64(step), 0xD409))

            // mixup / cutmix of this rank's batch (timm's Mixup, mode "batch"): draws from (seed, step, rank)
            var mixRNG = Mixup.rng(seed: seed, step: step, rank: Communicator.world.rank)
            let mix = Mixup.apply(mixing, pixels: batch.pixels, labels: batch.labels, classes: k,
                                  smoothing: cfg.optim.label_smoothing, rng: &mixRNG)

            model.zeroGrad()
            let logits: Variable
            if freeze {
                // linear probe: the encoder runs as in inference and records nothing
                let features = Tape.noGrad { meanTokens(model.encoder(Variable(mix.pixels), visible: nil, ForwardContext.inference())) }
                logits = model.head(model.fcNorm(Variable(features.value)))
            } else {
                logits = model.logits(Variable(mix.pixels), ctx)
            }
            // mixing on: soft targets (label smoothing folded in, as timm); off: the hard labels
            let loss = mix.targets.map { softTargetCrossEntropy(logits, targets: $0) }
                ?? crossEntropy(logits, labels: batch.labels, smoothing: smoothing)
            var lossValue = Double(loss.value[flat: 0])
            let trainAcc = batchAccuracy(logits.value, labels: mix.accuracyLabels)   // each sample's dominant label
            if lossValue.isFinite { loss.backward() } else { Tape.clear() }
            // gradients averaged over the ranks; the mean loss of the global batch, non-finite when
            // any rank's is, so that every rank stops at the same step with the same line
            lossValue = try sync.reduce(loss: lossValue).loss
            let (gradNorm, lr, wd) = try updateParameters(loss: lossValue, step: step, params: paramVars, opt: opt, cfg: cfg,
                                                          loader: loader, lrAt: lrAt, wdAt: wdAt, lastSaved: lastSaved, store: store)
            step += 1
            summary.lastStep = step
            summary.losses.append(lossValue)

            let dt = Date().timeIntervalSince(t0)
            let clipsPerSec = Double(loader.clipsPerStep) / dt
            let logNow = step % cfg.log.every_steps == 0 || step == end
            progress.show(step: step, epoch: batch.epoch, loss: lossValue, lr: lr, clipsPerSec: clipsPerSec, force: logNow)
            if logNow {
                var fields: [String: Any] = ["step": step, "epoch": batch.epoch, "loss": lossValue, "train_acc": trainAcc, "lr": lr,
                                             "min_lr": lr * minScale,
                                             "weight_decay": wd, "grad_norm": gradNorm, "clips_per_s": clipsPerSec, "step_s": dt,
                                             "data_wait_s": loader.lastWait]
                if mixing.enabled { fields["mix_lam"] = mix.draw.lam }   // this rank's batch's lam (1: not mixed)
                progress.record(fields)
            }
            // after each epoch, and at the end of the schedule: evaluate (the best is kept)
            let epochDone = batch.lastOfEpoch || step == total
            let isBest = epochDone && !StopSignal.requested ? try evaluate(epoch: batch.epoch) : false
            let regular = step % cfg.checkpoint.every_steps == 0 || step == end || StopSignal.requested
            if (regular || isBest) && Communicator.world.isWriter {
                let ck = try checkpoint()
                if regular {
                    try store.save(ck, step: step)
                    lastSaved = store.path(step: step)
                    progress.say("saved \(lastSaved!)")
                }
                if isBest {
                    try ck.write(to: store.bestPath)
                    progress.say("saved \(store.bestPath) (top-1 \(String(format: "%.2f", best))%)")
                }
            }
            if (regular || epochDone) && Communicator.world.isWriter {
                CheckpointPictures.redrawCurves(outputDir: cfg.output_dir)  // never throws; warns on failure
                HeapTrim.release()
            }
            if StopSignal.requested { summary.stoppedBySignal = true; break }
        }
        if best.isFinite { say(String(format: "best top-1 %.2f%% at step %d: %@", best, bestStep, store.bestPath)) }
        if let report = skippedFilesReport(dataset) { printErr("warning: \(report)") }
        summary.checkpoint = lastSaved ?? store.list().first?.path
        return summary
    }

    var stopAt: Int? { trainer.stopAt }

    /// AdamW over the parameters that train — all of them, or only fc_norm and head with
    /// `finetune.freeze_encoder` — with the layer-decay lr scale of each (`LayerDecay`) and no
    /// weight decay for 1-D tensors and biases (AdamW's default rule), betas and eps from the config.
    static func optimizer(for model: Classifier, _ cfg: TrainConfig) -> (AdamW, [(String, Variable)]) {
        let params = model.namedParameters()
        let trainable = cfg.finetune.freeze_encoder ? params.filter { $0.0.hasPrefix("fc_norm.") || $0.0.hasPrefix("head.") } : params
        let decay = LayerDecay(depth: model.config.encoder_depth, decay: cfg.optim.layer_decay)
        let opt = AdamW(trainable, beta1: Float(cfg.optim.betas[0]), beta2: Float(cfg.optim.betas[1]), eps: Float(cfg.optim.eps),
                        lrScale: { decay.scale($0) })
        return (opt, trainable)
    }

    /// `--eval-only`: evaluates a fine-tuned checkpoint on data.val_list — the `--resume` path
    /// when one is given, else output_dir's checkpoint-best.h5, else its newest checkpoint.
    func evaluateOnly() throws -> RunSummary {
        guard let list = cfg.data.val_list else {
            throw UserError("data.val_list: not set; --eval-only evaluates on it (a list file of `path label` lines or a class-per-folder directory)")
        }
        let store = CheckpointStore(dir: cfg.output_dir, keepLast: cfg.checkpoint.keep_last)
        let path: String
        if let r = trainer.resume, r != "auto" {
            path = r
        } else if FileManager.default.fileExists(atPath: store.bestPath) {
            path = store.bestPath
        } else if let newest = store.list().first {
            path = newest.path
        } else {
            throw UserError("--eval-only: no fine-tuning checkpoint in \(cfg.output_dir) (checkpoint-best.h5 or checkpoint-*.h5); pass --resume PATH")
        }
        let ck = try readCheckpoint(path)
        guard ck.task == "finetune" else {
            throw UserError("\(path): a \(ck.task) checkpoint has no classifier; --eval-only needs a fine-tuning checkpoint (task \"finetune\")")
        }
        let k = ck.modelTensor("head.weight")?.shape.first ?? cfg.model.num_classes ?? 0
        guard k > 0 else { throw UserError("\(path): no head.weight: not a classifier checkpoint") }
        let classNames = namesFor(storedClassNames(ck) ?? [], classes: k)
        let model = Classifier(cfg.modelConfig(numClasses: k))
        try ModelState.load(model, from: ck, path: path)
        let val = try makeDataset(cfg, list: list, key: "data.val_list", training: false)
        try checkLabels(val, classes: k, key: "data.val_list")
        let views = cfg.finetune.test_num_segment * cfg.finetune.test_num_crop
        say("evaluating \(path) (step \(ck.step)) on \(val.count) videos × \(views) views")
        let evaluator = Evaluator(dataset: val, segments: cfg.finetune.test_num_segment, crops: cfg.finetune.test_num_crop,
                                  batchSize: cfg.optim.batch_size, workers: cfg.data.num_workers, seed: seed)
        let r = try evaluator.run(model, classNames: classNames, progress: evaluationBar(evaluator, quiet: trainer.quiet))
        do {
            try FileManager.default.createDirectory(atPath: cfg.output_dir, withIntermediateDirectories: true)
        } catch {
            throw UserError("output_dir: cannot create \(cfg.output_dir) (\(error.localizedDescription))")
        }
        let progress = Progress(total: 0, metricsPath: cfg.output_dir + "/metrics.jsonl", quiet: true)
        progress.record(["epoch": ck.epoch, "step": ck.step, "val_loss": r.loss, "val_top1": r.top1, "val_top5": r.top5,
                         "val_videos": r.videos, "val_views": r.views, "eval_s": r.seconds, "eval_only": true,
                         "checkpoint": path])
        progress.finish()
        if Communicator.world.isWriter { try? r.writeReports(to: cfg.output_dir) }
        say(r.table())
        // the headline goes out even with --quiet
        if Communicator.world.isWriter { print(String(format: "top-1 %.2f%%  top-5 %.2f%%  loss %.4f  (%d videos × %d views, %.1f s; per-class table and confusion matrix in %@)",
                     r.top1, r.top5, r.loss, r.videos, r.views, r.seconds, cfg.output_dir)) }
        if let report = skippedFilesReport(val) { printErr("warning: \(report)") }
        return RunSummary(firstStep: ck.step, lastStep: ck.step, totalSteps: ck.step, losses: [], checkpoint: path)
    }
}

/// The progress of an evaluation pass (views decoded and scored) on rank 0's stderr.
func evaluationBar(_ e: Evaluator, quiet: Bool) -> (Int, Int) -> Void {
    var bar: ProgressBar?
    return { done, total in
        guard !quiet, Communicator.world.isWriter else { return }
        if bar == nil { bar = ProgressBar(total: total, label: "eval: views") }
        bar!.update(done)
        if done >= total { bar!.finish() }
    }
}

/// Percent of rows whose largest logit is the label.
func batchAccuracy(_ logits: Tensor, labels: [Int]) -> Double {
    let k = logits.shape[1]
    var hit = 0
    for (b, y) in labels.enumerated() {
        let row = logits.data + b * k
        var best = 0
        for j in 1..<max(k, 1) where row[j] > row[best] { best = j }
        if best == y { hit += 1 }
    }
    return labels.isEmpty ? 0 : 100 * Double(hit) / Double(labels.count)
}
