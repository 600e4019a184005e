import Autodiff
import DataPipeline
import Dispatch
import Distributed
import ExitStatus
import Foundation
import NN
import RunConfig
import TensorCore
import VideoMAE

// Evaluation of a classifier on a labeled list, as the original VideoMAE's `final_test` +
// `merge`: every video is seen in `segments × crops` views (evenly spaced clips × crops along
// the long side), the softmax of the views is averaged, and top-1 / top-5 are taken on the
// average. The loss is the mean cross-entropy (no label smoothing) over all views, as the
// original's per-clip `criterion(output, target)`.

/// The outcome of one evaluation.
public struct EvalResult {
    public var videos: Int
    public var views: Int
    public var classNames: [String]
    /// Mean cross-entropy over every view of every video (no smoothing).
    public var loss: Double
    /// Percent of videos whose averaged prediction is right (top-1), or has the label among the
    /// first min(5, K) (top-5).
    public var top1: Double
    public var top5: Double
    /// confusion[true][predicted] = videos.
    public var confusion: [[Int]]
    /// Averaged probabilities per video, [videos][K].
    public var probabilities: [[Float]]
    public var labels: [Int]
    public var seconds: Double = 0

    public var predictions: [Int] { probabilities.map { argmax($0) } }

    /// (support, correct) per class.
    public var perClass: [(support: Int, correct: Int)] {
        confusion.enumerated().map { (c, row) in (row.reduce(0, +), row[c]) }
    }

    /// Per-class accuracy as CSV: class_index,class,support,correct,accuracy (percent, empty when no support).
    public func perClassCSV() -> String {
        var s = "class_index,class,support,correct,accuracy\n"
        for (c, pc) in perClass.enumerated() {
            let acc = pc.support > 0 ? String(format: "%.2f", 100 * Double(pc.correct) / Double(pc.support)) : ""
            s += "\(c),\(csvField(classNames[c])),\(pc.support),\(pc.correct),\(acc)\n"
        }
        return s
    }

    /// The confusion matrix as CSV: rows true classes, columns predicted classes.
    public func confusionCSV() -> String {
        var s = "true\\predicted," + classNames.map(csvField).joined(separator: ",") + "\n"
        for (c, row) in confusion.enumerated() {
            s += csvField(classNames[c]) + "," + row.map(String.init).joined(separator: ",") + "\n"
        }
        return s
    }

    /// A fixed-width table for the terminal: per-class accuracy, then the confusion matrix.
    public func table() -> String {
        let w = max(5, classNames.map(\.count).max() ?? 5)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
        var out = pad("class", w) + "  support  correct  accuracy\n"
        for (c, pc) in perClass.enumerated() {
            let acc = pc.support > 0 ? String(format: "%.1f%%", 100 * Double(pc.correct) / Double(pc.support)) : "-"
            out += pad(classNames[c], w) + "  " + lpad("\(pc.support)", 7) + "  " + lpad("\(pc.correct)", 7) + "  " + lpad(acc, 8) + "\n"
        }
        out += "confusion (rows: true class, columns: predicted class index)\n"
        let cw = max(3, String(confusion.flatMap { $0 }.max() ?? 0).count + 1)
        out += pad("", w) + " " + (0..<classNames.count).map { lpad("\($0)", cw) }.joined() + "\n"
        for (c, row) in confusion.enumerated() {
            out += pad(classNames[c], w) + " " + row.map { lpad("\($0)", cw) }.joined() + "\n"
        }
        return out
    }

    /// Writes `per_class_accuracy.csv` and `confusion_matrix.csv` into `dir` (atomically each).
    public func writeReports(to dir: String) throws {
        try perClassCSV().write(toFile: dir + "/per_class_accuracy.csv", atomically: true, encoding: .utf8)
        try confusionCSV().write(toFile: dir + "/confusion_matrix.csv", atomically: true, encoding: .utf8)
    }
}

func csvField(_ s: String) -> String {
    s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}

func argmax(_ v: [Float]) -> Int {
    var best = 0
    for i in v.indices where v[i] > v[best] { best = i }
    return best
}

/// Collects the logits of every view of every video and merges them (softmax averaged).
public final class MultiViewAccumulator {
    public let videos: Int
    public let classes: Int
    private var probSum: [Double]     // [videos, K]
    private var viewCount: [Int]
    private var labels: [Int]
    private var lossSum: Double = 0
    private var lossCount = 0

    public init(videos: Int, classes: Int) {
        self.videos = videos
        self.classes = classes
        probSum = Array(repeating: 0, count: videos * classes)
        viewCount = Array(repeating: 0, count: videos)
        labels = Array(repeating: -1, count: videos)
    }

    /// One view of `video` with true class `label`: logits [K].
    public func add(video: Int, label: Int, logits: UnsafePointer<Float>) {
        precondition(video >= 0 && video < videos && label >= 0 && label < classes)
        let k = classes
        var mx = -Float.infinity
        for j in 0..<k { mx = max(mx, logits[j]) }
        var sum: Double = 0
        for j in 0..<k { sum += Foundation.exp(Double(logits[j] - mx)) }
        let lse = Double(mx) + Foundation.log(sum)
        for j in 0..<k { probSum[video * k + j] += Foundation.exp(Double(logits[j]) - lse) }
        lossSum += lse - Double(logits[label])
        lossCount += 1
        viewCount[video] += 1
        if labels[video] < 0 { labels[video] = label }
    }

    public func add(video: Int, label: Int, logits: [Float]) {
        logits.withUnsafeBufferPointer { add(video: video, label: label, logits: $0.baseAddress!) }
    }

    /// Data-parallel evaluation: each rank added the views of its own videos; afterwards every
    /// rank holds the sums of all of them (so top-1 / top-5 are counted exactly, once).
    public func allreduce(_ world: Communicator) throws {
        guard world.size > 1 else { return }
        let n = probSum.count
        var buf = probSum + viewCount.map(Double.init) + [lossSum, Double(lossCount)]
        try buf.withUnsafeMutableBufferPointer { try world.allreduce($0.baseAddress!, count: $0.count) }
        let lab = try world.allreduce(labels.map(Double.init), op: .max)
        probSum = Array(buf[0..<n])
        viewCount = buf[n..<(n + videos)].map { Int($0) }
        lossSum = buf[n + videos]
        lossCount = Int(buf[n + videos + 1])
        labels = lab.map { Int($0) }
    }

    /// The merged result over the videos that got at least one view.
    public func result(classNames: [String], views: Int) -> EvalResult {
        var probs: [[Float]] = []
        var labs: [Int] = []
        var confusion = Array(repeating: Array(repeating: 0, count: classes), count: classes)
        var hit1 = 0, hit5 = 0
        let k5 = min(5, classes)
        for v in 0..<videos where viewCount[v] > 0 {
            let p = (0..<classes).map { Float(probSum[v * classes + $0] / Double(viewCount[v])) }
            let y = labels[v]
            let pred = argmax(p)
            confusion[y][pred] += 1
            if pred == y { hit1 += 1 }
            // rank of the true class: how many classes score strictly higher (ties count for it)
            let higher = p.enumerated().filter { $0.offset != y && $0.element > p[y] }.count
            if higher < k5 { hit5 += 1 }
            probs.append(p)
            labs.append(y)
        }
        let n = probs.count
        var names = classNames
        while names.count < classes { names.append("class_\(names.count)") }
        return EvalResult(videos: n, views: views, classNames: Array(names.prefix(classes)),
                          loss: lossCount > 0 ? lossSum / Double(lossCount) : .nan,
                          top1: n > 0 ? 100 * Double(hit1) / Double(n) : 0,
                          top5: n > 0 ? 100 * Double(hit5) / Double(n) : 0,
                          confusion: confusion, probabilities: probs, labels: labs)
    }
}

/// A dataset that can hand out the views of multi-view testing. Video datasets do (through
/// `withMode(.eval(…))`); any other dataset is seen in one view (its own samples).
public protocol EvalViewSource {
    func viewDataset(segment: Int, segments: Int, crop: Int, crops: Int) -> ClipDataset
}

extension VideoDataset: EvalViewSource {
    public func viewDataset(segment: Int, segments: Int, crop: Int, crops: Int) -> ClipDataset {
        withMode(.eval(segment: segment, segments: segments, crop: crop, crops: crops))
    }
}

extension VideoClipDataset: EvalViewSource {
    public func viewDataset(segment: Int, segments: Int, crop: Int, crops: Int) -> ClipDataset {
        withMode(.eval(segment: segment, segments: segments, crop: crop, crops: crops))
    }
}

/// Runs a classifier over every view of every video of a dataset, `batchSize` views per
/// forward, decoding the next batch on `workers` threads while the current one runs.
public final class Evaluator {
    public let dataset: ClipDataset
    public let views: [ClipDataset]
    public let batchSize: Int
    public let workers: Int
    public let seed: UInt64

    public init(dataset: ClipDataset, segments: Int, crops: Int, batchSize: Int, workers: Int, seed: UInt64) {
        self.dataset = dataset
        if let src = dataset as? EvalViewSource {
            var v: [ClipDataset] = []
            for s in 0..<segments { for c in 0..<crops { v.append(src.viewDataset(segment: s, segments: segments, crop: c, crops: crops)) } }
            views = v
        } else {
            views = [dataset]
        }
        self.batchSize = max(1, batchSize)
        self.workers = workers
        self.seed = seed
    }

    struct Item { let video: Int; let view: Int }

    /// The (video, view) pairs in order: all views of video 0, then video 1, …
    var items: [Item] {
        (0..<dataset.count).flatMap { v in (0..<views.count).map { Item(video: v, view: $0) } }
    }

    /// Rank `rank`'s share of `items` in a data-parallel run: the views of videos
    /// [rank·V/size, (rank+1)·V/size).
    func items(rank: Int, of size: Int) -> [Item] {
        let v = dataset.count, lo = rank * v / size, hi = (rank + 1) * v / size
        return items.filter { $0.video >= lo && $0.video < hi }
    }

    func load(_ chunk: ArraySlice<Item>) throws -> [Sample] {
        let list = Array(chunk)
        var out = [Result<Sample, Error>?](repeating: nil, count: list.count)
        let threads = min(max(workers, 1), list.count)
        let lock = NSLock()
        let body: (Int) -> Void = { t in
            var i = t
            while i < list.count {
                let it = list[i]
                let r = Result { try self.views[it.view].sample(index: it.video, epoch: 0, seed: self.seed) }
                lock.lock(); out[i] = r; lock.unlock()
                i += threads
            }
        }
        if threads <= 1 || workers == 0 { body(0) } else { DispatchQueue.concurrentPerform(iterations: threads, execute: body) }
        return try out.map { try $0!.get() }
    }

    /// Evaluates `model` (inference: no drop-path, nothing recorded). `classNames` names the
    /// model's K outputs; a label outside 0..<K is a `UserError`.
    public func run(_ model: Classifier, classNames: [String], key: String = "data.val_list",
                    progress: ((Int, Int) -> Void)? = nil) throws -> EvalResult {
        let t0 = Date()
        let k = model.config.num_classes
        let acc = MultiViewAccumulator(videos: dataset.count, classes: k)
        let world = Communicator.world   // each rank evaluates its share; the sums are reduced below
        let all = world.size > 1 ? items(rank: world.rank, of: world.size) : items
        let chunks = stride(from: 0, to: all.count, by: batchSize).map { all[$0..<min($0 + batchSize, all.count)] }
        // prefetch: chunk i+1 decodes while chunk i runs through the model
        var next: (DispatchSemaphore, ResultBox)? = nil
        func submit(_ i: Int) -> (DispatchSemaphore, ResultBox) {
            let sem = DispatchSemaphore(value: 0), box = ResultBox()
            DispatchQueue.global().async {
                box.value = Result { try self.load(chunks[i]) }
                sem.signal()
            }
            return (sem, box)
        }
        if !chunks.isEmpty { next = submit(0) }
        var done = 0
        for i in chunks.indices {
            let (sem, box) = next!
            sem.wait()
            next = i + 1 < chunks.count ? submit(i + 1) : nil
            let samples: [Sample]
            do { samples = try box.value!.get() } catch {
                if let n = next { n.0.wait() }
                throw error
            }
            for s in samples where s.label < 0 || s.label >= k {
                if let n = next { n.0.wait() }
                throw UserError("\(key): label \(s.label) of \(s.source) is outside the classifier's \(k) classes (0..<\(k))")
            }
            let per = samples[0].pixels.count
            let pixels = Tensor(uninitialized: [samples.count] + samples[0].pixels.shape)
            for (b, s) in samples.enumerated() { (pixels.data + b * per).update(from: s.pixels.data, count: per) }
            let logits = Tape.noGrad { model.logits(Variable(pixels), ForwardContext.inference()) }
            for (b, it) in chunks[i].enumerated() {
                acc.add(video: it.video, label: samples[b].label, logits: logits.value.data + b * k)
            }
            done += samples.count
            progress?(done, all.count)
        }
        try RunStart.ensure(world)
        try acc.allreduce(world)
        var r = acc.result(classNames: classNames, views: views.count)
        r.seconds = Date().timeIntervalSince(t0)
        return r
    }
}

final class ResultBox: @unchecked Sendable {
    var value: Result<[Sample], Error>?
}

/// Checks that every label of a video dataset fits a K-class classifier (before any decoding).
func checkLabels(_ ds: ClipDataset, classes k: Int, key: String) throws {
    let clips = (ds as? VideoDataset)?.clips ?? (ds as? VideoClipDataset)
    guard let clips else { return }
    if let bad = clips.entries.first(where: { $0.label >= k }) {
        throw UserError("\(key): label \(bad.label) of \(bad.path) is outside the classifier's \(k) classes (0..<\(k))")
    }
}
