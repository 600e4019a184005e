import Foundation
import TensorCore

/// What `vmae-train` does once the config is read: print it, train, report.
public func runTraining(_ cfg: TrainConfig, resume: String?, stopAt: Int?, threads: Int?, evalOnly: Bool, quiet: Bool) throws {
    if let t = threads { Threads.configure(t) }
    if !quiet { print("config:\n\(cfg.json())") }
    let trainer = Trainer(config: cfg, stopAt: stopAt, resume: resume, quiet: quiet, evalOnly: evalOnly)
    CheckpointPictures(config: cfg).install(on: trainer)  // recon-STEP.png, curves.png at each checkpoint
    do {
        let s = try trainer.run()
        if s.stoppedBySignal {
            print("stopped at step \(s.lastStep) of \(s.totalSteps) by a signal\(s.checkpoint.map { ", checkpoint " + $0 } ?? ""); " +
                  "continue with --resume auto")
        } else if !quiet {
            let tail = s.losses.suffix(1).first.map { String(format: ", last loss %.4f", $0) } ?? ""
            print("done: steps \(s.firstStep)..<\(s.lastStep) of \(s.totalSteps)\(tail)\(s.checkpoint.map { ", checkpoint " + $0 } ?? "")")
        }
    } catch let e as TrainingFailure {
        printErr("error: \(e.message)")
        throw ExitCodeError(code: 1)
    }
}

/// Exits with a given status after the message was printed.
public struct ExitCodeError: Error { public let code: Int32 }
