import Autodiff
import Optim
import RunConfig

/// The end of a training step once the gradients of the global batch are in, the same in both
/// loops (pretraining and fine-tuning): a non-finite loss stops the run (the last good
/// checkpoint is kept and named); else the gradients are clipped (`optim.clip_grad`), the
/// schedules give this step's learning rate and weight decay, and AdamW updates the parameters.
/// Returns what the metrics line logs.
func updateParameters(loss lossValue: Double, step: Int, params paramVars: [Variable], opt: AdamW, cfg: TrainConfig,
                      loader: BatchLoader, lrAt: CosineSchedule, wdAt: CosineSchedule,
                      lastSaved: String?, store: CheckpointStore) throws -> (gradNorm: Double, lr: Double, wd: Double) {
    guard lossValue.isFinite else {
        Tape.clear()
        // steps are counted from 1 in the progress lines, metrics and checkpoint names
        let kept = lastSaved ?? store.list().first?.path
        throw agreed(TrainingFailure("loss is \(lossValue) at step \(step + 1); stopping (the last good checkpoint is kept\(kept.map { ": " + $0 } ?? ""))"))
    }
    let gradNorm = cfg.optim.clip_grad.map { clipGradNorm(paramVars, maxNorm: $0) } ?? globalGradNorm(paramVars)
    let sstep = loader.scheduleStep(step, maxSteps: cfg.optim.max_steps)
    let lr = lrAt(sstep), wd = wdAt(sstep)
    opt.step(lr: lr, weightDecay: wd)
    return (gradNorm, lr, wd)
}
