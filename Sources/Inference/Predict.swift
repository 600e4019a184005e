import Autodiff
import Checkpoint
import DataPipeline
import ExitStatus
import Foundation
import NN
import RunConfig
import TensorCore
import VideoIO
import VideoMAE

/// One class and its probability.
public struct ClassScore: Equatable {
    public let index: Int
    public let label: String
    public let probability: Float
}

/// One window of a timeline: seconds [start, end), the top class.
public struct TimelineRow: Equatable {
    public let start: Double
    public let end: Double
    public let best: ClassScore
}

/// What `vmae predict` says about one video.
public struct VideoPrediction {
    public let video: String
    public let duration: Double
    public let frames: Int
    public let fps: Double
    public let views: Int
    public let top: [ClassScore]
    public var timeline: [TimelineRow]?
    public var windowSeconds: Double?
    public var strideSeconds: Double?

    public func text() -> String {
        var s = "\(video)  (\(String(format: "%.2f", duration)) s, \(frames) frames at \(String(format: "%.3g", fps)) fps; \(views) view\(views == 1 ? "" : "s"))\n"
        for c in top { s += "  " + String(format: "%6.2f%%", 100 * c.probability) + "  " + c.label + "\n" }
        if let timeline {
            s += String(format: "  timeline (window %.2f s, stride %.2f s):\n", windowSeconds ?? 0, strideSeconds ?? 0)
            for r in timeline {
                s += String(format: "  %8.2f – %8.2f s  ", r.start, r.end) + r.best.label + String(format: "  %.2f%%\n", 100 * r.best.probability)
            }
        }
        return s
    }

    public func jsonObject() -> [String: Any] {
        func score(_ c: ClassScore) -> [String: Any] {
            ["label": c.label, "class_index": c.index, "probability": Double(c.probability)]
        }
        var o: [String: Any] = ["video": video, "duration_s": duration, "frames": frames, "fps": fps, "views": views,
                                "top_k": top.map(score)]
        if let timeline {
            o["window_s"] = windowSeconds ?? 0
            o["stride_s"] = strideSeconds ?? 0
            o["timeline"] = timeline.map { ["start_s": $0.start, "end_s": $0.end, "label": $0.best.label,
                                            "class_index": $0.best.index, "probability": Double($0.best.probability)] as [String: Any] }
        }
        return o
    }
}

/// A fine-tuned classifier ready to answer for video files: the checkpoint's weights, config
/// (clip shape, normalization, test views) and class names. With `huggingFace` preprocessing
/// (a `--model` folder) clips are made as transformers' VideoMAE processor makes them, from
/// frames sampled uniformly over the video (`windows` equal parts, `num_frames` frames each).
public final class Predictor {
    public let path: String
    public let cfg: TrainConfig
    public let model: Classifier
    public let classNames: [String]
    public let huggingFace: HFVideoPreprocessor?
    /// Windows averaged for a video's label: `--windows` (checkpoints: replaces test_num_segment).
    public var windows: Int?
    /// Where the sampled frames go as PNGs (`--save-frames`), as decoded, before any resizing.
    public var saveFramesDir: String?
    /// A progress bar on stderr over several videos, or a timeline of more than 8 windows.
    public var showProgress = true
    /// Frames between timeline windows' samples for a `--model` folder (the Kinetics models'
    /// sampling rate: 16 frames × 4 = a 64-frame window).
    public static let huggingFaceTimelineRate = 4

    /// Reads a fine-tuning checkpoint. A missing or foreign file, or a checkpoint of another
    /// task, is a `UserError`.
    public convenience init(checkpoint path: String) throws {
        try self.init(checkpoint: try readCheckpoint(path), source: path)
    }

    /// A checkpoint already in memory (`source` names it in messages); `huggingFace`: the
    /// preprocessing of the Hugging Face folder it was read from.
    public init(checkpoint ck: Checkpoint, source path: String, huggingFace: HFVideoPreprocessor? = nil) throws {
        self.path = path
        self.huggingFace = huggingFace
        guard ck.task == "finetune" else {
            throw UserError("\(path): a \(ck.task) checkpoint has no classifier; vmae predict needs a fine-tuning checkpoint (task \"finetune\")")
        }
        cfg = try storedConfig(of: ck, path: path)
        guard let head = ck.modelTensor("head.weight"), head.shape.count == 2 else {
            throw UserError("\(path): no head.weight: not a classifier checkpoint")
        }
        let k = head.shape[0]
        classNames = namesFor(storedClassNames(ck) ?? [], classes: k)
        model = Classifier(cfg.modelConfig(numClasses: k))
        try ModelState.load(model, from: ck, path: path)
        if let c = huggingFace?.crop {
            let size = cfg.modelConfig(numClasses: k).img_size
            if c.height != size || c.width != size {
                throw UserError("\(path): preprocessor_config.json crops \(c.width)×\(c.height) but the model takes \(size)×\(size) (image_size)")
            }
        }
    }

    public var classCount: Int { classNames.count }
    var options: ClipOptions { clipOptions(cfg) }

    /// Opens a video for reading; a file that cannot be decoded is a `UserError`.
    public func open(_ video: String) throws -> VideoReader {
        do { return try VideoReader(path: video, deadline: cfg.data.decode_timeout_s) } catch let e as VideoError where e.kind == .missingFile {
            throw UserError("\(video): no such file")
        } catch let e as VideoError {
            throw UserError("\(video): cannot decode the video (\(e.kind.rawValue): \(e.reason))")
        } catch {
            throw UserError("\(video): cannot decode the video (\(error))")
        }
    }

    /// The frames `indices` of `reader`, short side resized to input_size, crop `crop` of
    /// `crops` along the long side, normalized: [T, C, S, S].
    func clip(_ reader: VideoReader, indices: [Int], crop: Int, crops: Int, window: Int = 0) throws -> Tensor {
        if let hf = huggingFace { return try hfClip(reader, indices: indices, hf, window: window) }
        let o = options
        let short = max(1, min(reader.width, reader.height))
        let s = Double(o.inputSize) / Double(short)
        func scaled(_ v: Int) -> Int { min(16384, max(o.inputSize, Int((Double(v) * s).rounded()))) }
        let (dw, dh) = reader.width <= reader.height ? (o.inputSize, scaled(reader.height)) : (scaled(reader.width), o.inputSize)
        let rgb: [UInt8]
        do { rgb = try reader.frames(indices, width: dw, height: dh) } catch let e as VideoError {
            throw UserError("\(reader.path): cannot decode the video (\(e.kind.rawValue): \(e.reason))")
        }
        let box = ClipTransform.evalCrop(width: dw, height: dh, size: o.inputSize, index: crop, count: crops)
        return rgb.withUnsafeBufferPointer {
            ClipTransform.render(rgb: $0.baseAddress!, count: indices.count, width: dw, height: dh, box: box,
                                 outWidth: o.inputSize, outHeight: o.inputSize, mean: o.mean, std: o.std)
        }
    }

    /// A `--model` folder's clip: the frames at their own size, then transformers' steps; with
    /// `saveFramesDir`, each frame also as `w<window>-f<index>.png`.
    func hfClip(_ reader: VideoReader, indices: [Int], _ hf: HFVideoPreprocessor, window: Int) throws -> Tensor {
        let (w, h) = (reader.width, reader.height)
        let rgb: [UInt8]
        do { rgb = try reader.frames(indices, width: w, height: h) } catch let e as VideoError {
            throw UserError("\(reader.path): cannot decode the video (\(e.kind.rawValue): \(e.reason))")
        }
        if let dir = saveFramesDir {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                for (i, f) in indices.enumerated() {
                    try PNGImage.write(path: dir + String(format: "/w%d-f%06d.png", window, f), width: w, height: h,
                                       rgb: Array(rgb[(i * w * h * 3)..<((i + 1) * w * h * 3)]))
                }
            } catch { throw UserError("--save-frames \(dir): cannot write the frames (\(error))") }
        }
        return rgb.withUnsafeBufferPointer { hf.pixels($0.baseAddress!, count: indices.count, width: w, height: h) }
    }

    /// Softmax over the classes for each clip, [clips][K] (inference; batches of `batch`).
    func probabilities(_ clips: [Tensor], batch: Int = 8) -> [[Float]] {
        var out: [[Float]] = []
        let k = classCount
        for start in stride(from: 0, to: clips.count, by: max(1, batch)) {
            let part = Array(clips[start..<min(start + max(1, batch), clips.count)])
            let per = part[0].count
            let pixels = Tensor(uninitialized: [part.count] + part[0].shape)
            for (b, c) in part.enumerated() { (pixels.data + b * per).update(from: c.data, count: per) }
            let z = Tape.noGrad { model.logits(Variable(pixels), ForwardContext.inference()) }.value
            for b in 0..<part.count {
                let row = Array(UnsafeBufferPointer(start: z.data + b * k, count: k))
                let mx = row.max() ?? 0
                let e = row.map { Foundation.exp($0 - mx) }
                let sum = e.reduce(0, +)
                out.append(e.map { $0 / sum })
            }
        }
        return out
    }

    /// The top `k` classes, most probable first.
    public func top(_ probs: [Float], k: Int) -> [ClassScore] {
        probs.enumerated().sorted { $0.element > $1.element || ($0.element == $1.element && $0.offset < $1.offset) }
            .prefix(k).map { ClassScore(index: $0.offset, label: classNames[$0.offset], probability: $0.element) }
    }

    /// The class probabilities of a whole video: the checkpoint's test views
    /// (test_num_segment × test_num_crop), softmax averaged, as evaluation does.
    public func videoProbabilities(_ reader: VideoReader) throws -> (probs: [Float], views: Int) {
        let o = options
        var clips: [Tensor] = []
        if huggingFace != nil {
            let wins = HFVideoPreprocessor.windowIndices(frameCount: reader.frameCount, count: o.numFrames, windows: windows ?? 1)
            for (i, idx) in wins.enumerated() { clips.append(try clip(reader, indices: idx, crop: 0, crops: 1, window: i)) }
            return (average(probabilities(clips)), clips.count)
        }
        let segs = windows ?? cfg.finetune.test_num_segment, crops = cfg.finetune.test_num_crop
        var rng = RNG(seed: 0)
        for s in 0..<segs {
            let idx = ClipSampler.frameIndices(frameCount: max(reader.frameCount, 1), numFrames: o.numFrames, rate: o.samplingRate,
                                               sampling: o.sampling, position: segs > 1 ? .view(s, of: segs) : .centre, rng: &rng)
            for c in 0..<crops { clips.append(try clip(reader, indices: idx, crop: c, crops: crops)) }
        }
        return (average(probabilities(clips)), clips.count)
    }

    func average(_ p: [[Float]]) -> [Float] {
        var avg = [Float](repeating: 0, count: classCount)
        for row in p { for j in 0..<classCount { avg[j] += row[j] / Float(p.count) } }
        return avg
    }

    /// Slides a dense clip window (num_frames frames sampling_rate apart) along the video,
    /// `stride` seconds apart (default: the window's length), the last window ending with the
    /// video; one centre crop per window.
    public func timeline(_ reader: VideoReader, stride strideSeconds: Double?) throws -> (rows: [TimelineRow], window: Double, stride: Double) {
        let o = options
        let fps = reader.fps > 0 ? reader.fps : 25
        let n = max(reader.frameCount, 1)
        let rate = huggingFace != nil ? Predictor.huggingFaceTimelineRate : o.samplingRate
        let span = o.numFrames * rate
        let strideFrames = max(1, Int(((strideSeconds ?? Double(span) / fps) * fps).rounded()))
        var starts: [Int] = []
        let lastStart = max(0, n - span)
        var s = 0
        while s <= lastStart { starts.append(s); s += strideFrames }
        if starts.last! < lastStart { starts.append(lastStart) }
        var rows: [TimelineRow] = []
        let bar = showProgress && starts.count > 8
            ? ProgressBar(total: starts.count, label: "timeline " + URL(fileURLWithPath: reader.path).lastPathComponent + ": windows") : nil
        for chunk in Swift.stride(from: 0, to: starts.count, by: 8) {
            let part = Array(starts[chunk..<min(chunk + 8, starts.count)])
            let clips = try part.map { st in
                try clip(reader, indices: ClipSampler.denseIndices(frameCount: n, numFrames: o.numFrames, rate: rate, start: st),
                         crop: 0, crops: 1)
            }
            for (st, p) in zip(part, probabilities(clips)) {
                rows.append(TimelineRow(start: Double(st) / fps, end: Double(min(st + span, n)) / fps, best: top(p, k: 1)[0]))
            }
            bar?.update(rows.count)
        }
        bar?.finish()
        return (rows, Double(span) / fps, Double(strideFrames) / fps)
    }

    /// Everything `vmae predict` prints for one video.
    public func predict(_ video: String, topK: Int, timeline wantTimeline: Bool = false, stride: Double? = nil) throws -> VideoPrediction {
        let reader = try open(video)
        let (p, views) = try videoProbabilities(reader)
        var out = VideoPrediction(video: video, duration: reader.durationSeconds > 0 ? reader.durationSeconds : Double(reader.frameCount) / max(reader.fps, 1),
                                  frames: reader.frameCount, fps: reader.fps, views: views, top: top(p, k: topK))
        if wantTimeline {
            let t = try timeline(reader, stride: stride)
            out.timeline = t.rows
            out.windowSeconds = t.window
            out.strideSeconds = t.stride
        }
        return out
    }
}

/// `vmae predict`: checks the arguments, then prints each video's top-k (and timeline), as
/// text or one JSON object per line. Bad input is a `UserError`: a checkpoint of another task,
/// `--top-k` outside 1...K, a video that cannot be decoded (all are opened before any is scored).
public func runPredict(checkpoint: String, videos: [String], topK: Int?, timeline: Bool, windowStride: Double?,
                       json: Bool, write: (String) -> Void = { print($0, terminator: "") }) throws {
    guard !videos.isEmpty else { throw UserError("no video given (vmae predict --checkpoint CK.h5 VIDEO…)") }
    if let s = windowStride {
        guard timeline else { throw UserError("--window-stride needs --timeline") }
        guard s > 0, s.isFinite else { throw UserError("--window-stride: must be a positive number of seconds, got \(s)") }
    }
    if let k = topK, k < 1 { throw UserError("--top-k: must be at least 1, got \(k)") }
    try runPredict(predictor: try Predictor(checkpoint: checkpoint), videos: videos, topK: topK, timeline: timeline,
                   windowStride: windowStride, json: json, write: write)
}

/// `vmae predict` with a classifier already loaded (a checkpoint, or a `--model` folder).
/// Over several videos a progress bar (stderr) counts them.
public func runPredict(predictor: Predictor, videos: [String], topK: Int?, timeline: Bool, windowStride: Double?,
                       json: Bool, write: (String) -> Void = { print($0, terminator: "") }) throws {
    guard !videos.isEmpty else { throw UserError("no video given (vmae predict --checkpoint CK.h5 | --model HF_FOLDER  VIDEO…)") }
    if let s = windowStride {
        guard timeline else { throw UserError("--window-stride needs --timeline") }
        guard s > 0, s.isFinite else { throw UserError("--window-stride: must be a positive number of seconds, got \(s)") }
    }
    if let k = topK, k < 1 { throw UserError("--top-k: must be at least 1, got \(k)") }
    if let w = predictor.windows, w < 1 { throw UserError("--windows: must be at least 1, got \(w)") }
    let k = predictor.classCount
    if let t = topK, t > k {
        throw UserError("--top-k \(t) is larger than the \(k) classes of \(predictor.path)")
    }
    for v in videos { _ = try predictor.open(v) }
    let bar = videos.count > 1 && predictor.showProgress ? ProgressBar(total: videos.count, label: "predict: videos") : nil
    for (i, v) in videos.enumerated() {
        let p = try predictor.predict(v, topK: topK ?? min(5, k), timeline: timeline, stride: windowStride)
        if json {
            let d = try JSONSerialization.data(withJSONObject: p.jsonObject(), options: [.sortedKeys])
            write(String(data: d, encoding: .utf8)! + "\n")
        } else {
            write(p.text())
        }
        bar?.update(i + 1, detail: URL(fileURLWithPath: v).lastPathComponent)
    }
    bar?.finish()
}
