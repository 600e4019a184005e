import Checkpoint
import DataPipeline
import Dispatch
import Distributed
import Foundation
import TensorCore

/// One step's input.
public struct Batch {
    public let pixels: Tensor        // [B, T, C, H, W]
    public let labels: [Int]         // [B]
    public let indices: [Int]        // dataset index of each sample
    public let epoch: Int
    /// Where the global batch starts in its epoch's order (samples), and whether it is the
    /// epoch's last full batch.
    public var offset: Int = 0
    public var lastOfEpoch: Bool = false
}

/// A place in the data: sample `offset` of epoch `epoch`'s order.
public struct DataPosition: Equatable {
    public var epoch: Int
    public var offset: Int
    public init(epoch: Int, offset: Int) { self.epoch = epoch; self.offset = offset }
}

/// Serves the batches of a run in order, decoding ahead on `workers` threads into a bounded
/// window. Global batch `k` of epoch `e` holds samples `order(e)[k·G ..< (k+1)·G]` (the last
/// partial batch of an epoch is dropped, as the original's sampler with drop_last), so the data
/// a step sees depends only on (seed, step).
///
/// Data-parallel runs: G = `worldSize` × `batchSize` (the batch is per rank, as in the original)
/// and rank r takes the r-th run of `batchSize` samples of each global batch, so what every
/// sample gets (clip, crop, flip, mask) depends only on (seed, epoch, global index): K ranks with
/// batch b see exactly the samples of one process with batch K·b.
///
/// A run that resumes from a checkpoint made with another G continues at the checkpoint's data
/// position (`resume(atStep:from:)`): step `startStep` begins at `startPosition` and each later
/// step takes the next G samples, an epoch ending when fewer than G are left.
public final class BatchLoader {
    public let dataset: ClipDataset
    public let batchSize: Int
    public let seed: UInt64
    public let workers: Int
    public let stepsPerEpoch: Int
    /// This process's share of each global batch, and the number of shares.
    public let rank: Int
    public let worldSize: Int
    /// Samples per step over all ranks.
    public var globalBatch: Int { batchSize * worldSize }
    /// Clips per sample (the original fine-tuning's repeated augmentation, `num_sample`): each
    /// sample of a batch comes `repeats` times, each with its own random clip, crop and
    /// augmentation, one after another (the original's `multiple_samples_collate`). 1: none.
    public let repeats: Int
    /// Clips per step over all ranks.
    public var clipsPerStep: Int { globalBatch * repeats }
    /// The seed clip `k` > 0 of a repeated sample is drawn with.
    static func repeatSeed(_ seed: UInt64, _ k: Int) -> UInt64 {
        var r = RNG(seed, UInt64(k), 0x2E9E)
        return r.next()
    }
    /// Step `startStep` begins at `startPosition` (step 0 at epoch 0, sample 0 unless resumed).
    public private(set) var startStep = 0
    public private(set) var startPosition = DataPosition(epoch: 0, offset: 0)
    /// Seconds the trainer spent waiting on the last `next` call.
    public private(set) var lastWait: Double = 0

    private let queue = DispatchQueue(label: "vmae.loader", attributes: .concurrent)
    private let lock = NSLock()
    private var pending: [Int: (DispatchSemaphore, Result<Batch, Error>?)] = [:]
    private var orders: [Int: [Int]] = [:]
    private let slots: DispatchSemaphore

    /// - Parameters: rank, worldSize: this process's place in a data-parallel run (by default
    ///   the MPI world's; one process for a plain run).
    public init(dataset: ClipDataset, batchSize: Int, seed: UInt64, workers: Int, repeats: Int = 1,
                rank: Int = Communicator.world.rank, worldSize: Int = Communicator.world.size) {
        precondition(worldSize >= 1 && rank >= 0 && rank < worldSize, "rank \(rank) of \(worldSize)")
        precondition(repeats >= 1, "repeats \(repeats)")
        self.repeats = repeats
        self.dataset = dataset
        self.batchSize = batchSize
        self.seed = seed
        self.workers = workers
        self.rank = rank
        self.worldSize = worldSize
        self.stepsPerEpoch = max(dataset.count / (batchSize * worldSize), 0)
        self.slots = DispatchSemaphore(value: max(workers, 1))
    }

    // ---- where each step is in the data ------------------------------------------------------

    /// A position moved to the next epoch when fewer than one global batch is left in its own.
    func normalized(_ p: DataPosition) -> DataPosition {
        p.offset + globalBatch > dataset.count ? DataPosition(epoch: p.epoch + 1, offset: 0) : p
    }

    /// Where the global batch of `step` starts. (With the default start: epoch step / stepsPerEpoch,
    /// batch step % stepsPerEpoch.)
    public func position(ofStep step: Int) -> DataPosition {
        let g = globalBatch, spe = max(stepsPerEpoch, 1)
        guard step >= startStep else { return DataPosition(epoch: step / spe, offset: (step % spe) * g) }
        let s = normalized(startPosition)
        let j = step - startStep
        let first = (dataset.count - s.offset) / g          // batches left in the start's epoch
        if j < first { return DataPosition(epoch: s.epoch, offset: s.offset + j * g) }
        let k = j - first
        return DataPosition(epoch: s.epoch + 1 + k / spe, offset: (k % spe) * g)
    }

    /// The step whose batch is the first of epoch `epoch` (where a schedule of `epoch` epochs
    /// ends); `startStep` when that epoch has already begun.
    public func firstStep(ofEpoch epoch: Int) -> Int {
        let s = normalized(startPosition)
        if epoch <= s.epoch { return startStep }
        return startStep + (dataset.count - s.offset) / globalBatch + (epoch - s.epoch - 1) * stepsPerEpoch
    }

    /// The run's last step: `max_steps`, else the end of `epochs` epochs.
    public func totalSteps(epochs: Int, maxSteps: Int?) -> Int { maxSteps ?? firstStep(ofEpoch: epochs) }

    /// Where `step` is on the lr / weight-decay schedule: the step itself with `max_steps`, else
    /// epochs done × stepsPerEpoch + global batches done in this epoch (the same number unless
    /// the run resumed with another global batch, as the original's per-epoch schedule).
    public func scheduleStep(_ step: Int, maxSteps: Int?) -> Int {
        if maxSteps != nil { return step }
        let p = position(ofStep: step)
        return p.epoch * stepsPerEpoch + p.offset / globalBatch
    }

    /// Continues a run at `step` from where checkpoint `ck` left the data (its `data_epoch` /
    /// `data_offset`; a checkpoint without them continues as step `step` of this loader).
    /// Returns a note when the checkpoint was made with another global batch.
    @discardableResult
    public func resume(atStep step: Int, from ck: Checkpoint) -> String? {
        guard let e = ck.ints["data_epoch"]?.first, let o = ck.ints["data_offset"]?.first else {
            startStep = 0
            startPosition = DataPosition(epoch: 0, offset: 0)
            return nil
        }
        resume(atStep: step, position: DataPosition(epoch: Int(e), offset: Int(o)))
        let was = ck.ints["global_batch"]?.first.map(Int.init) ?? globalBatch
        let ranks = ck.ints["world_size"]?.first.map(Int.init) ?? 1
        guard was != globalBatch else { return nil }
        let p = position(ofStep: step)
        return "the checkpoint was made with a global batch of \(was) (\(ranks) rank\(ranks == 1 ? "" : "s")); " +
            "now \(globalBatch) (\(worldSize) × \(batchSize)): the data continues at epoch \(p.epoch), sample \(p.offset)"
    }

    public func resume(atStep step: Int, position: DataPosition) {
        startStep = step
        startPosition = position
        lock.lock(); pending = [:]; lock.unlock()
    }

    /// What a checkpoint stores of the data: where the next step starts (`data_epoch`,
    /// `data_offset`: samples into that epoch's order), the global batch and the ranks that made
    /// it, and, as before, `epoch_position` (global batches into the epoch) and `steps_per_epoch`.
    public func stateInts(nextStep step: Int) -> [String: [Int64]] {
        let p = position(ofStep: step)
        return ["data_epoch": [Int64(p.epoch)], "data_offset": [Int64(p.offset)], "global_batch": [Int64(globalBatch)],
                "world_size": [Int64(worldSize)], "epoch_position": [Int64(p.offset / max(globalBatch, 1))],
                "steps_per_epoch": [Int64(stepsPerEpoch)]]
    }

    func order(_ epoch: Int) -> [Int] {
        lock.lock(); defer { lock.unlock() }
        if let o = orders[epoch] { return o }
        let o = epochOrder(count: dataset.count, epoch: epoch, seed: seed)
        orders[epoch] = o
        orders = orders.filter { $0.key >= epoch - 1 }
        return o
    }

    /// The batch of global step `step` (synchronous: for tests and workers == 0).
    public func load(step: Int) throws -> Batch {
        let pos = position(ofStep: step), epoch = pos.epoch
        let first = pos.offset + rank * batchSize
        let ids = Array(order(epoch)[first..<(first + batchSize)])
        var samples: [Sample] = []
        for i in ids {
            for k in 0..<repeats {
                // the first clip of a sample is the one a run without repeats draws
                samples.append(try dataset.sample(index: i, epoch: epoch, seed: k == 0 ? seed : Self.repeatSeed(seed, k)))
            }
        }
        let shape = samples[0].pixels.shape
        let per = samples[0].pixels.count
        let pixels = Tensor(uninitialized: [samples.count] + shape)
        for (b, s) in samples.enumerated() {
            precondition(s.pixels.count == per, "samples of one batch differ in shape")
            (pixels.data + b * per).update(from: s.pixels.data, count: per)
        }
        return Batch(pixels: pixels, labels: samples.map(\.label), indices: ids.flatMap { Array(repeating: $0, count: repeats) },
                     epoch: epoch, offset: pos.offset,
                     lastOfEpoch: position(ofStep: step + 1).epoch != epoch)
    }

    private func submit(_ step: Int) {
        lock.lock()
        if pending[step] != nil { lock.unlock(); return }
        let done = DispatchSemaphore(value: 0)
        pending[step] = (done, nil)
        lock.unlock()
        queue.async { [self] in
            slots.wait()
            let r = Result { try load(step: step) }
            slots.signal()
            lock.lock(); pending[step]?.1 = r; lock.unlock()
            done.signal()
        }
    }

    /// The batch of `step`, with the next `2·workers` batches queued behind it.
    public func next(step: Int, lastStep: Int) throws -> Batch {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { lastWait = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
        if workers == 0 { return try load(step: step) }
        for s in step..<min(step + 1 + 2 * workers, lastStep) { submit(s) }
        submit(step)
        lock.lock(); let sem = pending[step]!.0; lock.unlock()
        sem.wait()
        lock.lock(); let r = pending.removeValue(forKey: step)!.1!; lock.unlock()
        return try r.get()
    }

    /// Waits for queued work to finish (before exit).
    public func drain() {
        lock.lock(); let sems = pending.values.map(\.0); lock.unlock()
        for s in sems { s.wait(); s.signal() }
    }
}
