import DataPipeline
import Dispatch
import Foundation
import TensorCore

/// One step's input.
public struct Batch {
    public let pixels: Tensor        // [B, T, C, H, W]
    public let labels: [Int]         // [B]
    public let indices: [Int]        // dataset index of each sample
    public let epoch: Int
}

/// Serves the batches of a run in order, decoding ahead on `workers` threads into a bounded
/// window. Batch `k` of epoch `e` holds samples `order(e)[k·B ..< (k+1)·B]` (the last partial
/// batch of an epoch is dropped, as the original's sampler with drop_last), so the data a step
/// sees depends only on (seed, step).
public final class BatchLoader {
    public let dataset: ClipDataset
    public let batchSize: Int
    public let seed: UInt64
    public let workers: Int
    public let stepsPerEpoch: Int
    /// Seconds the trainer spent waiting on the last `next` call.
    public private(set) var lastWait: Double = 0

    private let queue = DispatchQueue(label: "vmae.loader", attributes: .concurrent)
    private let lock = NSLock()
    private var pending: [Int: (DispatchSemaphore, Result<Batch, Error>?)] = [:]
    private var orders: [Int: [Int]] = [:]
    private let slots: DispatchSemaphore

    public init(dataset: ClipDataset, batchSize: Int, seed: UInt64, workers: Int) {
        self.dataset = dataset
        self.batchSize = batchSize
        self.seed = seed
        self.workers = workers
        self.stepsPerEpoch = max(dataset.count / batchSize, 0)
        self.slots = DispatchSemaphore(value: max(workers, 1))
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
        let epoch = step / stepsPerEpoch, k = step % stepsPerEpoch
        let ids = Array(order(epoch)[(k * batchSize)..<((k + 1) * batchSize)])
        var samples: [Sample] = []
        for i in ids { samples.append(try dataset.sample(index: i, epoch: epoch, seed: seed)) }
        let shape = samples[0].pixels.shape
        let per = samples[0].pixels.count
        let pixels = Tensor(uninitialized: [batchSize] + shape)
        for (b, s) in samples.enumerated() {
            precondition(s.pixels.count == per, "samples of one batch differ in shape")
            (pixels.data + b * per).update(from: s.pixels.data, count: per)
        }
        return Batch(pixels: pixels, labels: samples.map(\.label), indices: ids, epoch: epoch)
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
