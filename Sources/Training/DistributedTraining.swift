import Autodiff
import Distributed
import ExitStatus
import Foundation
import NN
import Optim
import RunConfig
import TensorCore

// Data-parallel training over MPI (`mpirun -np K vmae-train --config F`), as PyTorch's
// DistributedDataParallel with the original VideoMAE scripts:
//   • every rank builds the same model from the same seed, then takes rank 0's parameters,
//     optimizer moments, step and data position (`startDataParallel`), so a resume or an
//     initialization that only rank 0 could read still starts every rank alike;
//   • each step, each rank runs forward and backward on its share of the global batch
//     (`BatchLoader`), then ONE in-place MPI_Allreduce (sum) over one flat buffer holding every
//     gradient averages them (× 1/K) before clipping and the optimizer (`GradientSync`): every
//     rank then clips by the same global norm and takes the same AdamW step, so the replicas
//     stay identical (checked at each checkpoint by `verifyReplicas`);
//   • rank 0 alone writes checkpoints, metrics, pictures and progress;
//   • failures: one that every rank meets (a bad config value, a non-finite loss) ends every
//     rank with one line from rank 0 and the usual exit status; one that only some ranks meet
//     before training starts is reported by those ranks, and the others stop with it; one that a
//     rank meets mid-run ends the whole run through MPI_Abort (mpirun ends the other ranks);
//     a rank that dies is noticed by mpirun, which ends the others. No rank waits forever.
// A plain run (no launcher) has a world of one: every call here is then free and changes nothing.

/// A failure every rank of a data-parallel run agreed on: each rank ends with `code`; the
/// ranks with `report` print `underlying` (one line).
public struct CollectiveFailure: Error, CustomStringConvertible {
    public let underlying: Error?
    public let code: Int32
    public let report: Bool
    public var description: String { underlying.map { "\($0)" } ?? "another rank failed" }
}

/// Exit status and one-line message of an error, as the commands print it.
func failureLine(_ error: Error) -> (code: Int32, message: String) {
    switch error {
    case let e as UserError: return (2, e.message)
    case let e as TrainingFailure: return (1, e.message)
    case let e as MPIError: return (1, e.message)
    case let e as CollectiveFailure: return (e.code, e.description)
    default: return (1, "\(error)")
    }
}

/// The start of a data-parallel run: the ranks agree that each finished its setup. The first
/// collective of every run goes through here, so a rank whose setup failed (a file it cannot
/// read, a bad value) and the ranks waiting for it end together.
enum RunStart {
    nonisolated(unsafe) static var agreed = false

    /// Called by a rank that set up fine, before its first collective.
    static func ensure(_ world: Communicator = .world) throws {
        guard world.size > 1, !agreed else { return }
        agreed = true
        let r = try world.allreduce([0, 0, 0])
        if r[0] > 0 { throw CollectiveFailure(underlying: nil, code: r[1] > 0 && r[2] == 0 ? 2 : 1, report: false) }
    }

    /// Called by a rank whose setup failed with `error` (when the ranks have not agreed yet):
    /// joins the agreement and says whether this rank should print its error (not when every
    /// rank failed — rank 0 speaks for all — unless it is rank 0). Nil once the run has started
    /// (the error then needs MPI_Abort).
    static func join(failing error: Error, _ world: Communicator = .world) -> (report: Bool, code: Int32)? {
        guard world.size > 1, !agreed else { return nil }
        agreed = true
        let user = error is UserError
        guard let r = try? world.allreduce([1, user ? 1 : 0, user ? 0 : 1]) else { return nil }
        let code: Int32 = r[1] > 0 && r[2] == 0 ? 2 : 1
        let everyRank = Int(r[0]) == world.size
        return (!everyRank || world.isWriter, code)
    }
}

/// Rank 0's parameters, optimizer moments and step, and the data position, sent to every rank
/// (after each rank built, initialized or resumed its model). Free in a plain run.
func startDataParallel(_ params: [(String, Variable)], _ opt: AdamW, step: inout Int, loader: BatchLoader,
                       _ world: Communicator = .world) throws {
    guard world.size > 1 else { return }
    try RunStart.ensure(world)
    let s = try world.broadcast([Int64(step), Int64(opt.stepCount), Int64(loader.startStep),
                                 Int64(loader.startPosition.epoch), Int64(loader.startPosition.offset)])
    step = Int(s[0])
    opt.stepCount = Int(s[1])
    loader.resume(atStep: Int(s[2]), position: DataPosition(epoch: Int(s[3]), offset: Int(s[4])))
    try broadcastState(params.map(\.1.value), opt, world)
}

/// Every parameter and moment from rank 0.
func broadcastState(_ values: [Tensor], _ opt: AdamW, _ world: Communicator) throws {
    for t in values + opt.slots.flatMap({ [$0.expAvg, $0.expAvgSq] }) {
        try world.broadcast(UnsafeMutableRawPointer(t.data), bytes: t.count * MemoryLayout<Float>.size)
    }
}

/// Checks that every rank holds bitwise the same parameters (a hash of their bits, compared by
/// one small allreduce); if not — a broken MPI reduction, ranks on unlike hardware — warns and
/// takes rank 0's parameters and moments. Free in a plain run.
func verifyReplicas(_ params: [Variable], _ opt: AdamW, step: Int, warn: (String) -> Void,
                    _ world: Communicator = .world) throws {
    guard world.size > 1 else { return }
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for p in params {
        let n = p.count, d = p.value.data
        d.withMemoryRebound(to: UInt32.self, capacity: n) { u in
            var x = h
            for i in 0..<n { x = (x ^ UInt64(u[i])) &* 0x100_0000_01B3 }
            h = x
        }
    }
    let r = try world.allreduce([h, ~h], op: .max)
    if r[0] == h && r[1] == ~h { return }   // max == min: every rank has this hash
    warn("warning: the ranks' parameters differ at step \(step); continuing from rank 0's")
    try broadcastState(params.map(\.value), opt, world)
}

/// The one allreduce of a data-parallel step. Each rank's gradients (of its own mean loss over
/// its share of the batch) are copied into one flat buffer laid out as
///   [ every gradient, parameter after parameter | has-gradient flag per parameter |
///     loss, stop requested, failed, failed with bad input, mean predictor's loss ]
/// summed over the ranks in place by one MPI_Allreduce, and copied back × 1/K: the gradient of
/// the mean loss over the global batch, on every rank. The flags keep "no gradient" (a parameter
/// no sample used) as one process with the whole batch would; the tail carries the mean loss,
/// a Ctrl-C / SIGTERM seen by any rank (so every rank stops at the same step), and a failure of
/// any rank's step (so every rank stops together instead of waiting).
final class GradientSync {
    let params: [Variable]
    let world: Communicator
    let offsets: [Int]
    let gradCount: Int
    let count: Int
    private var buffer: UnsafeMutablePointer<Float>?
    /// Seconds spent in the last allreduce (0 in a plain run).
    private(set) var lastReduceSeconds: Double = 0

    init(_ params: [Variable], world: Communicator = .world) {
        self.params = params
        self.world = world
        var o: [Int] = [], n = 0
        for p in params { o.append(n); n += p.count }
        offsets = o
        gradCount = n
        count = n + params.count + 5
        if world.size > 1 { DistributedSignals.install(world) }
    }

    deinit { buffer?.deallocate() }

    struct Outcome {
        let loss: Double
        /// The mean predictor's loss, averaged as the loss (NaN when the step did not compute it).
        var trivialLoss: Double = .nan
        /// Some rank was asked to stop (SIGINT / SIGTERM): every rank finishes this step.
        let stop: Bool
    }

    /// Averages the gradients over the ranks (in place in each parameter's `grad`) and returns
    /// the mean loss. `failure`: this rank's step failed (its gradients are not used): every
    /// rank then throws — this rank its own error, the others a silent `CollectiveFailure`.
    func reduce(loss: Double, trivialLoss: Double = .nan, failure: Error? = nil) throws -> Outcome {
        guard world.size > 1 else {
            if let failure { throw failure }
            return Outcome(loss: loss, trivialLoss: trivialLoss, stop: StopSignal.requested)
        }
        try RunStart.ensure(world)
        if buffer == nil {
            buffer = .allocate(capacity: count)
        }
        let buf = buffer!
        let flags = buf + gradCount, tail = flags + params.count
        for (i, p) in params.enumerated() {
            if failure == nil, let g = p.grad {
                (buf + offsets[i]).update(from: g.data, count: p.count)
                flags[i] = 1
            } else {
                (buf + offsets[i]).update(repeating: 0, count: p.count)
                flags[i] = 0
            }
        }
        tail[0] = failure == nil ? Float(loss) : 0
        tail[1] = DistributedSignals.pending > 0 || StopSignal.requested ? 1 : 0
        tail[2] = failure == nil ? 0 : 1
        tail[3] = failure is UserError ? 1 : 0
        tail[4] = failure == nil ? Float(trivialLoss) : 0

        let t0 = DispatchTime.now().uptimeNanoseconds
        try world.allreduce(buf, count: count)
        lastReduceSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9

        if tail[2] > 0 {
            let code: Int32 = tail[3] == tail[2] ? 2 : 1
            if let failure {
                throw CollectiveFailure(underlying: failure, code: code, report: Int(tail[2]) < world.size || world.isWriter)
            }
            throw CollectiveFailure(underlying: nil, code: code, report: false)
        }
        let scale = 1 / Float(world.size)
        for (i, p) in params.enumerated() where flags[i] > 0 {
            if p.grad == nil { p.setGrad(Tensor(zeros: p.shape)) }
            let g = p.grad!.data, src = buf + offsets[i]
            parallelFor(p.count, minChunk: 1 << 16) { r in
                for j in r { g[j] = src[j] * scale }
            }
        }
        let stop = tail[1] > 0
        if stop && StopSignal.count == 0 { StopSignal.count = 1 }   // every rank stops after this step
        let mean = Double(tail[0]) / Double(world.size)
        let trivial = Double(tail[4]) / Double(world.size)
        return Outcome(loss: mean.isNaN ? .nan : mean, trivialLoss: trivial, stop: stop)
    }
}

/// SIGINT / SIGTERM / SIGUSR1 in a data-parallel run: noted here and acted on by every rank
/// together at the next gradient allreduce (a rank that stopped alone would leave the others
/// waiting): each finishes the step, rank 0 saves a checkpoint, all exit. mpirun passes SIGUSR1
/// on to every rank and waits for them (`kill -USR1 <mpirun pid>` stops a run cleanly); on
/// Ctrl-C or SIGTERM it passes SIGTERM on but ends the ranks about a second later, whatever they
/// are doing — the last checkpoint written stays intact either way. A second Ctrl-C exits at once.
enum DistributedSignals {
    nonisolated(unsafe) static var pending: Int32 = 0
    nonisolated(unsafe) static var installed = false
    nonisolated(unsafe) static var silent = false

    static func install(_ world: Communicator = .world) {
        if installed { return }
        installed = true
        silent = !world.isWriter
        StopSignal.installed = true   // the loops' StopSignal.install() must not take the signals back
        let handler: @convention(c) (Int32) -> Void = { sig in
            DistributedSignals.pending += 1
            if DistributedSignals.pending >= 2 && sig == SIGINT { _exit(130) }
            if DistributedSignals.silent || DistributedSignals.pending > 1 { return }
            let msg = sig == SIGUSR1 ? "\nvmae: SIGUSR1: every rank stops after this step with a checkpoint\n"
                                     : "\nvmae: stopping after this step on every rank (the last checkpoint is kept)\n"
            _ = msg.withCString { write(2, $0, strlen($0)) }
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        signal(SIGUSR1, handler)
        // A rank whose peer died (its host gone, the process killed) learns it first as often as
        // not from a write to the dead peer's TCP socket inside an allreduce: EPIPE, and with it
        // SIGPIPE, whose default action ends the process without a word — before mpirun's
        // SIGTERM, so the stop line above never came (seen under strace in scripts/two-hosts.sh:
        // rank 0 "killed by SIGPIPE" 0.2 s after mpirun began tearing the job down, about one run
        // in two). Here rank 0 says so in one line, and every rank exits at once (status 1): no
        // checkpoint is being written then (the allreduce and the checkpoint write are the same
        // thread), and the last one written is whole. After a stop line already written, quietly.
        let broken: @convention(c) (Int32) -> Void = { _ in
            if !DistributedSignals.silent && DistributedSignals.pending == 0 {
                let msg = "\nvmae: lost the connection to another rank (a rank or its host is gone); stopping (the last checkpoint is kept)\n"
                _ = msg.withCString { write(2, $0, strlen($0)) }
            }
            _exit(1)
        }
        signal(SIGPIPE, broken)
    }
}

/// The default number of threads for one rank: this machine's cores shared among the ranks on
/// it, and never more than the cores the launcher bound the rank to.
func defaultThreadsPerRank(_ world: Communicator = .world) -> Int {
    let cores = ProcessInfo.processInfo.processorCount
    return max(1, min(cores / max(world.localSize, 1), Threads.allowedCores))
}

/// One line about a data-parallel run (nil for a plain one).
func dataParallelLine(_ cfg: TrainConfig, _ world: Communicator = .world) -> String? {
    guard world.usesMPI else { return nil }
    let b = cfg.optim.batch_size
    return "data-parallel: \(world.size) rank\(world.size == 1 ? "" : "s") × batch \(b) = effective batch \(world.size * b); " +
        "\(Threads.count) thread\(Threads.count == 1 ? "" : "s") per rank (\(world.localSize) rank\(world.localSize == 1 ? "" : "s") on this machine)"
}
