import Foundation
import TensorCore
import VideoIO

/// What a clip is for, which decides its frames and its crop.
public enum ClipMode: Equatable {
    /// Pretraining: random clip start, the original's multi-scale crop, resized to `inputSize`.
    case pretrain
    /// Fine-tuning: random clip start, RandAugment of the frames (`ClipOptions.randAugment`),
    /// random resized crop (area fraction from `ClipOptions.minCropArea` to 1), horizontal flip
    /// with p = `ClipOptions.flipProbability`, then random erasing of each frame with p = `ClipOptions.eraseProbability`.
    case finetune
    /// Evaluation: clip `segment` of `segments` evenly spaced ones (the centre when
    /// `segments` is 1), short side resized to `inputSize`, crop `crop` of `crops` along the long
    /// side (the centre when `crops` is 1). No randomness.
    case eval(segment: Int, segments: Int, crop: Int, crops: Int)

    /// One centred clip, centre crop: validation.
    public static let evalCentre = ClipMode.eval(segment: 0, segments: 1, crop: 0, crops: 1)

    public var isTraining: Bool {
        if case .eval = self { return false }
        return true
    }
}

/// The shape and normalization of the clips (the config's `data` section).
public struct ClipOptions: Equatable {
    public var numFrames: Int
    public var samplingRate: Int
    public var inputSize: Int
    public var mean: [Float]
    public var std: [Float]
    public var sampling: FrameSampling
    /// Seconds one video may take to open or to decode a clip's frames; nil = no limit.
    public var decodeTimeout: Double?
    /// Training decodes frames with their short side at most `inputSize × trainDecodeScale`
    /// (the original trains 224-pixel crops on videos scaled to a 320-pixel short side), never
    /// enlarged; the crop is then resized to `inputSize`. Evaluation decodes with the short
    /// side at exactly `inputSize`.
    public var trainDecodeScale: Double
    /// Fine-tuning: probability of mirroring a clip horizontally (the original's 0.5; 0 for
    /// direction-sensitive classes).
    public var flipProbability: Double
    /// Fine-tuning: the random resized crop's smallest area fraction (the original's 0.08).
    public var minCropArea: Double
    /// Fine-tuning: the chance each frame gets a rectangle of noise (`RandomErasing`; the
    /// original's `reprob` 0.25). 0: none.
    public var eraseProbability: Double
    /// Fine-tuning: RandAugment of the decoded frames before the crop (the original's
    /// "rand-m7-n4-mstd0.5-inc1"); nil: none.
    public var randAugment: RandAugment?
    /// Keep each video's decoded frames in memory, up to this many MiB in all (0: off). A small
    /// dataset that fits (the bundled one: 1992 clips of 32×64² take 783 MiB) is then decoded
    /// once instead of once per epoch; the clips are byte-for-byte the same either way. Only videos
    /// of at most 4× a clip's span (`numFrames × samplingRate` frames) are kept; longer ones are
    /// decoded clip by clip as without the cache.
    public var cacheMiB: Int

    public init(numFrames: Int = 16, samplingRate: Int = 4, inputSize: Int = 224,
                mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225],
                sampling: FrameSampling = .dense, decodeTimeout: Double? = 30, trainDecodeScale: Double = 320.0 / 224.0,
                flipProbability: Double = 0.5, minCropArea: Double = 0.08, eraseProbability: Double = 0,
                randAugment: RandAugment? = nil, cacheMiB: Int = 0) {
        self.numFrames = numFrames
        self.samplingRate = samplingRate
        self.inputSize = inputSize
        self.mean = mean
        self.std = std
        self.sampling = sampling
        self.decodeTimeout = decodeTimeout
        self.trainDecodeScale = trainDecodeScale
        self.flipProbability = flipProbability
        self.minCropArea = minCropArea
        self.eraseProbability = eraseProbability
        self.randAugment = randAugment
        self.cacheMiB = cacheMiB
    }
}

/// A video that could not be used, and why.
public struct SkippedFile: Equatable, CustomStringConvertible {
    public let index: Int
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Video clips for the trainer: `sample(index:epoch:seed:)` opens the video, picks the clip's
/// frames (`ClipSampler`), decodes just those (seeking where the clip starts late) at a
/// moderate size, and crops, resizes, mirrors and normalizes them (`ClipTransform`) into
/// `[T, C, H, W]` float32. Every random choice comes from `RNG(seed, epoch, index, …)`.
///
/// Thread-safe: every call opens its own `VideoReader`; the only shared state is the record of
/// bad files, behind a lock. The trainer's loader calls it from several threads at once.
///
/// **Bad files** (missing, empty, not a video, audio only, no frames, truncated, corrupt, or
/// decoding past `decodeTimeout`) never stop a run: each is reported once through `onSkip`
/// (by default a `warning:` line on stderr with its path and reason) and the sample is replaced
/// by another video, the first readable one of a sequence drawn from (seed, epoch, index) — then
/// the following indices in order — so the replacement depends only on which files are
/// readable, not on timing or threads. The replacement keeps the original sample's random
/// choices (clip start, crop, flip). Files that fail to open, and files that time out, are
/// remembered and not tried again; a file that fails only for some clips is retried for others.
/// When more than half of the videos have failed, `sample` throws a `DataError`.
public final class VideoClipDataset: ClipDataset {
    public let list: VideoList
    public let options: ClipOptions
    public let mode: ClipMode
    private let registry: BadFileRegistry
    private let cache: DecodedFrames

    public var count: Int { list.entries.count }
    public var classNames: [String] { list.classNames }
    public var entries: [VideoEntry] { list.entries }

    /// Throws a `DataError` for an empty list, and when more than half of the listed files are
    /// missing or empty (a wrong `root`, most likely), before any decoding.
    public init(list: VideoList, options: ClipOptions, mode: ClipMode) throws {
        guard !list.entries.isEmpty else { throw DataError("\(list.origin): the list holds no videos") }
        guard options.numFrames > 0, options.samplingRate > 0, options.inputSize > 0,
              options.mean.count == 3, options.std.count == 3, options.std.allSatisfy({ $0 > 0 }) else {
            throw DataError("\(list.origin): invalid clip options \(options)")
        }
        self.list = list
        self.options = options
        self.mode = mode
        self.registry = BadFileRegistry(total: list.entries.count, origin: list.origin)
        self.cache = DecodedFrames(budgetBytes: max(0, options.cacheMiB) << 20)
        try checkFilesExist()
    }

    private init(sibling: VideoClipDataset, mode: ClipMode) {
        list = sibling.list
        options = sibling.options
        registry = sibling.registry
        cache = sibling.cache
        self.mode = mode
    }

    /// The same videos in another mode (e.g. each view of multi-view testing), sharing the
    /// record of bad files.
    public func withMode(_ mode: ClipMode) -> VideoClipDataset { VideoClipDataset(sibling: self, mode: mode) }

    /// Called once per bad file, from whichever thread found it. Default: a line on stderr.
    public var onSkip: (SkippedFile) -> Void {
        get { registry.reporter }
        set { registry.reporter = newValue }
    }

    /// Bytes of decoded frames held by the cache (`ClipOptions.cacheMiB`), shared with `withMode` siblings.
    public var cachedBytes: Int { cache.bytes }

    /// How many distinct files have been skipped so far.
    public var skippedCount: Int { registry.skipped().count }
    /// The files skipped so far, by index.
    public var skippedFiles: [SkippedFile] { registry.skipped() }

    // MARK: - Samples

    public func sample(index: Int, epoch: Int, seed: UInt64) throws -> Sample {
        try sample(index: index, epoch: epoch, seed: seed, mode: mode)
    }

    public func sample(index: Int, epoch: Int, seed: UInt64, mode: ClipMode) throws -> Sample {
        precondition(index >= 0 && index < count, "sample index \(index) out of range 0..<\(count)")
        let rng = RNG(seed, UInt64(bitPattern: Int64(epoch)), UInt64(index), 0xDA7A)
        var probe = RNG(seed, UInt64(bitPattern: Int64(epoch)), UInt64(index), 0x5EB1)
        var candidate = index
        var attempt = 0
        while true {
            if !registry.isKnownBad(candidate) {
                let e = list.entries[candidate]
                var r = rng
                do {
                    let pixels = try decodeClip(path: e.path, mode: mode, rng: &r)
                    return Sample(pixels: pixels, label: e.label, source: e.path)
                } catch let err as VideoError {  // opening failed: a property of the file
                    try registry.record(SkippedFile(index: candidate, path: e.path, reason: "\(err.kind.rawValue): \(err.reason)"),
                                        remember: true)
                } catch let err as FramesError {
                    let v = err.error
                    try registry.record(SkippedFile(index: candidate, path: e.path, reason: "\(v.kind.rawValue): \(v.reason)"),
                                        remember: v.kind == .timeout)
                } catch let err as DataError {
                    throw err
                } catch {
                    try registry.record(SkippedFile(index: candidate, path: e.path, reason: "\(error)"), remember: true)
                }
            }
            attempt += 1
            if attempt > count + 32 {
                throw DataError("\(list.origin): no readable video found to replace \(list.entries[index].path)")
            }
            // 32 draws from (seed, epoch, index), then the following indices in order.
            if attempt <= 32 {
                repeat { candidate = probe.int(below: count) } while candidate == index && count > 1
            } else {
                candidate = (index + attempt - 32) % count
            }
        }
    }

    /// Thrown when decoding frames (not opening) fails: such a failure may depend on the clip.
    struct FramesError: Error { let error: VideoError }

    /// Decodes and transforms one clip of the video at `path` (no bad-file handling: errors are
    /// thrown as `VideoError`s). The random choices come from `rng`, in the order: clip
    /// position, RandAugment, crop, flip, erasing.
    public func clip(path: String, mode: ClipMode, rng: inout RNG) throws -> Tensor {
        do { return try decodeClip(path: path, mode: mode, rng: &rng) } catch let e as FramesError { throw e.error }
    }

    func decodeClip(path: String, mode: ClipMode, rng: inout RNG) throws -> Tensor {
        let position: ClipPosition
        switch mode {
        case .pretrain, .finetune: position = .random
        case let .eval(s, n, _, _): position = n > 1 ? .view(s, of: n) : .centre
        }
        var rgb: [UInt8]
        let indices: [Int], dw: Int, dh: Int
        if let hit = cache.lookup(path: path, training: mode.isTraining) {
            // every frame of the video was decoded before at this size: pick the clip's
            indices = ClipSampler.frameIndices(frameCount: hit.frameCount, numFrames: options.numFrames,
                                               rate: options.samplingRate, sampling: options.sampling,
                                               position: position, rng: &rng)
            (dw, dh) = (hit.width, hit.height)
            rgb = hit.pick(indices)
        } else {
            let reader = try VideoReader(path: path, deadline: options.decodeTimeout)
            indices = ClipSampler.frameIndices(frameCount: reader.frameCount, numFrames: options.numFrames,
                                               rate: options.samplingRate, sampling: options.sampling,
                                               position: position, rng: &rng)
            (dw, dh) = decodeSize(width: reader.width, height: reader.height, training: mode.isTraining)
            let promised = reader.frameCount
            // only videos not much longer than a clip (decoding a long one whole would cost more than it saves)
            if promised <= 4 * options.numFrames * options.samplingRate, cache.wants(bytes: promised * dw * dh * 3) {
                // decode the whole video once (the same frames the clip's indices would give), keep it
                let all: [UInt8]
                do { all = try reader.frames(Array(0..<promised), width: dw, height: dh) } catch let e as VideoError { throw FramesError(error: e) }
                try checkIntegrity(reader, promised: promised)
                let entry = DecodedFrames.Entry(frameCount: promised, width: dw, height: dh, rgb: all)
                cache.store(entry, path: path, training: mode.isTraining)
                rgb = entry.pick(indices)
            } else {
                do { rgb = try reader.frames(indices, width: dw, height: dh) } catch let e as VideoError { throw FramesError(error: e) }
                try checkIntegrity(reader, promised: promised)
            }
        }
        if case .finetune = mode, let ra = options.randAugment {
            ra.apply(&rgb, count: indices.count, width: dw, height: dh, rng: &rng)
        }
        let box: CropBox
        switch mode {
        case .pretrain: box = ClipTransform.multiScaleCrop(width: dw, height: dh, inputSize: options.inputSize, rng: &rng)
        case .finetune: box = ClipTransform.randomResizedCrop(width: dw, height: dh, rng: &rng,
                                                                       scale: min(options.minCropArea, 1)...1.0,
                                                                       flipProbability: options.flipProbability)
        case let .eval(_, _, c, n): box = ClipTransform.evalCrop(width: dw, height: dh, size: options.inputSize, index: c, count: n)
        }
        let clip = rgb.withUnsafeBufferPointer {
            ClipTransform.render(rgb: $0.baseAddress!, count: indices.count, width: dw, height: dh, box: box,
                                 outWidth: options.inputSize, outHeight: options.inputSize,
                                 mean: options.mean, std: options.std)
        }
        if case .finetune = mode, options.eraseProbability > 0 {
            RandomErasing.apply(clip, probability: options.eraseProbability, rng: &rng)
        }
        return clip
    }

    /// A clip whose decoding ran out of frames well before the count the header promised
    /// (a truncated file, or a demuxer that lost its way in corrupt data: more than 2 frames and
    /// 10% short), or whose packets failed to decode more than 5% of the time, is refused: the
    /// reader would hand back repeated or broken frames. Small shortfalls (a duration-based count
    /// off by a frame or two) and a lone damaged packet are tolerated.
    func checkIntegrity(_ r: VideoReader, promised: Int) throws {
        if r.frameCountSource == .decoded && promised - r.frameCount > max(2, promised / 10) {
            throw FramesError(error: VideoError(.corrupt, path: r.path,
                "only \(r.frameCount) of the \(promised) frames its header promises are decodable (truncated?)"))
        }
        let s = r.stats
        if s.decodeErrors > 0 && s.decodeErrors * 20 > max(s.packets, 1) {
            throw FramesError(error: VideoError(.corrupt, path: r.path,
                "\(s.decodeErrors) of \(s.packets) packets read for the clip failed to decode"))
        }
    }

    /// The size frames are decoded at (see `ClipOptions.trainDecodeScale`).
    public func decodeSize(width w: Int, height h: Int, training: Bool) -> (Int, Int) {
        let short = max(1, min(w, h))
        let target = training ? max(options.inputSize, Int((Double(options.inputSize) * options.trainDecodeScale).rounded()))
            : options.inputSize
        if training && short <= target { return (max(w, 1), max(h, 1)) }
        let s = Double(target) / Double(short)
        func scaled(_ v: Int) -> Int { min(16384, max(target, Int((Double(v) * s).rounded()))) }
        return w <= h ? (target, scaled(h)) : (scaled(w), target)
    }

    // MARK: - Bad files

    private func checkFilesExist() throws {
        var bad: [String] = []
        let fm = FileManager.default
        for e in list.entries {
            let size = (try? fm.attributesOfItem(atPath: e.path)[.size] as? NSNumber)??.int64Value
            if size == nil { bad.append("\(e.path): missing") } else if size == 0 { bad.append("\(e.path): empty") }
        }
        if bad.count * 2 > list.entries.count {
            throw DataError("\(list.origin): \(bad.count) of \(list.entries.count) videos are missing or empty " +
                            "(e.g. \(bad[0])); are the paths relative to the right root?")
        }
    }
}

/// Whole videos' decoded frames (RGB24 at the decode size), kept until the budget is spent; first
/// come, first kept, nothing evicted (shared by a dataset and its `withMode` siblings). Keyed by
/// path and by training or evaluation, whose decode sizes differ.
final class DecodedFrames {
    struct Entry {
        let frameCount: Int, width: Int, height: Int
        let rgb: [UInt8]  // [frameCount, height, width, 3]
        /// The frames at `indices`, in order, as `VideoReader.frames` returns them.
        func pick(_ indices: [Int]) -> [UInt8] {
            let fs = width * height * 3
            var out = [UInt8](repeating: 0, count: indices.count * fs)
            out.withUnsafeMutableBufferPointer { o in
                rgb.withUnsafeBufferPointer { src in
                    for (k, i) in indices.enumerated() {
                        (o.baseAddress! + k * fs).update(from: src.baseAddress! + i * fs, count: fs)
                    }
                }
            }
            return out
        }
    }

    private let budget: Int
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var used = 0

    init(budgetBytes: Int) { budget = budgetBytes }

    var bytes: Int { lock.lock(); defer { lock.unlock() }; return used }

    private func key(_ path: String, _ training: Bool) -> String { (training ? "t:" : "e:") + path }

    func lookup(path: String, training: Bool) -> Entry? {
        if budget == 0 { return nil }
        lock.lock(); defer { lock.unlock() }
        return entries[key(path, training)]
    }

    /// Whether a video of `bytes` decoded bytes would still fit.
    func wants(bytes: Int) -> Bool {
        if budget == 0 || bytes <= 0 { return false }
        lock.lock(); defer { lock.unlock() }
        return used + bytes <= budget
    }

    func store(_ e: Entry, path: String, training: Bool) {
        lock.lock(); defer { lock.unlock() }
        let k = key(path, training)
        guard entries[k] == nil, used + e.rgb.count <= budget else { return }
        entries[k] = e
        used += e.rgb.count
    }
}

/// The files that failed so far (shared by a dataset and its `withMode` siblings).
final class BadFileRegistry {
    let total: Int
    let origin: String
    private let lock = NSLock()
    private var failed: [Int: SkippedFile] = [:]  // every file that failed once (reported)
    private var remembered: Set<Int> = []          // not tried again
    private var _reporter: (SkippedFile) -> Void = { s in
        FileHandle.standardError.write("warning: skipping \(s.path): \(s.reason) (replaced by another video)\n".data(using: .utf8)!)
    }

    init(total: Int, origin: String) {
        self.total = total
        self.origin = origin
    }

    var reporter: (SkippedFile) -> Void {
        get { lock.lock(); defer { lock.unlock() }; return _reporter }
        set { lock.lock(); _reporter = newValue; lock.unlock() }
    }

    func isKnownBad(_ i: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return remembered.contains(i)
    }

    func skipped() -> [SkippedFile] {
        lock.lock(); defer { lock.unlock() }
        return failed.values.sorted { $0.index < $1.index }
    }

    /// Reports `s` the first time its file fails; throws when more than half have failed.
    func record(_ s: SkippedFile, remember: Bool) throws {
        lock.lock()
        let first = failed[s.index] == nil
        if first { failed[s.index] = s }
        if remember { remembered.insert(s.index) }
        let n = failed.count
        let report = _reporter
        let examples = n * 2 > total ? failed.values.sorted { $0.index < $1.index }.prefix(3).map(\.description) : []
        lock.unlock()
        if first { report(s) }
        if n * 2 > total {
            throw DataError("\(origin): \(n) of \(total) videos are unreadable (more than half), e.g. \(examples.joined(separator: "; "))")
        }
    }
}
