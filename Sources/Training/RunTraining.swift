import Distributed
import ExitStatus
import Foundation
import RunConfig
import TensorCore

/// `vmae-train --config PATH [--set key=value …]`: reads and checks the config (a bad one is a
/// `UserError`, exit status 2, before any work), then trains as below.
public func runTraining(configPath: String, overrides: [String], resume: String?, stopAt: Int?, threads: Int?,
                        evalOnly: Bool, quiet: Bool) throws {
    let cfg = try TrainConfig.load(path: configPath, overrides: overrides)
    try runTraining(cfg, resume: resume, stopAt: stopAt, threads: threads, evalOnly: evalOnly, quiet: quiet)
}

/// What `vmae-train` does once the config is read: print it, train, report.
///
/// Under an MPI launcher (`mpirun -np K vmae-train …`) this process is one rank of a
/// data-parallel run: MPI is initialized here (only then), each rank's threads default to its
/// share of the machine's cores, rank 0 alone prints and writes, and every way out ends every
/// rank (see DistributedTraining.swift).
public func runTraining(_ cfg: TrainConfig, resume: String?, stopAt: Int?, threads: Int?, evalOnly: Bool, quiet: Bool) throws {
    let world: Communicator
    do { world = try Communicator.initializeIfLaunched() } catch {
        printErr("error: \(error)")
        throw ExitCodeError(code: 1)
    }
    if let t = threads { Threads.configure(t) } else if world.usesMPI { Threads.configure(defaultThreadsPerRank(world)) }
    let speak = !quiet && world.isWriter
    if speak { print("config:\n\(cfg.json())") }
    if speak, let line = dataParallelLine(cfg, world) { print(line) }
    let trainer = Trainer(config: cfg, stopAt: stopAt, resume: resume, quiet: quiet, evalOnly: evalOnly)
    CheckpointPictures(config: cfg).install(on: trainer)  // recon-STEP.png, curves.png at each checkpoint
    do {
        let s = try trainer.run()
        world.finalize()
        if !world.isWriter { return }
        if s.stoppedBySignal {
            print("stopped at step \(s.lastStep) of \(s.totalSteps) by a signal\(s.checkpoint.map { ", checkpoint " + $0 } ?? ""); " +
                  "continue with --resume auto")
        } else if !quiet {
            let tail = s.losses.suffix(1).first.map { String(format: ", last loss %.4f", $0) } ?? ""
            print("done: steps \(s.firstStep)..<\(s.lastStep) of \(s.totalSteps)\(tail)\(s.checkpoint.map { ", checkpoint " + $0 } ?? "")")
        }
    } catch let e as TrainingFailure where !world.usesMPI {
        printErr("error: \(e.message)")
        throw ExitCodeError(code: 1)
    } catch where world.usesMPI {
        endRank(after: error, world)
    }
}

/// How a rank of an MPI run ends after `error`: with the other ranks when they agreed on it (or
/// had not started yet, so they can still agree), one line from the ranks that report it and
/// the same exit status everywhere; else (a failure only this rank met, mid-run) with one line
/// and MPI_Abort, which makes mpirun end every rank at once rather than leave them waiting.
func endRank(after error: Error, _ world: Communicator) -> Never {
    let tag = world.rank == 0 ? "" : "[rank \(world.rank)] "
    let (code, message) = failureLine(error)
    if let c = error as? CollectiveFailure {
        if c.report, let u = c.underlying { printErr("error: \(tag)\(failureLine(u).message)") }
        world.finalize()
        exit(c.code)
    }
    if world.size == 1 {
        printErr("error: \(message)")
        world.finalize()
        exit(code)
    }
    if let (report, agreedCode) = RunStart.join(failing: error, world) {
        if report { printErr("error: \(tag)\(message)") }
        world.finalize()
        exit(agreedCode)
    }
    printErr("error: \(tag)\(message)")
    printErr("vmae: rank \(world.rank) of \(world.size) failed; ending every rank of the run")
    world.abort(code)
}
