import DataPipeline
import ExitStatus
import Foundation
import Interop

/// What `vmae predict` was asked: a checkpoint or a Hugging Face folder, the videos, and how to report.
public struct PredictRequest {
    public var checkpoint: String?
    public var model: String?
    public var videos: [String] = []
    public var topK: Int?
    public var windows: Int?
    public var timeline = false
    public var windowStride: Double?
    public var json = false
    public var saveFrames: String?
    public init() {}
}

/// `vmae predict`: exactly one of `--checkpoint` (a fine-tuning checkpoint) and `--model` (a
/// Hugging Face VideoMAEForVideoClassification folder, read through Interop's importer with its
/// preprocessor config), then `runPredict(predictor:…)`.
public func runPredict(_ r: PredictRequest, write: (String) -> Void = { print($0, terminator: "") }) throws {
    let p: Predictor
    switch (r.checkpoint, r.model) {
    case (nil, nil): throw UserError("give --checkpoint CK.h5 or --model HF_FOLDER")
    case (.some, .some): throw UserError("--checkpoint and --model: give one of them")
    case (let ck?, nil):
        if r.saveFrames != nil { throw UserError("--save-frames needs --model") }
        if r.windows == nil {   // checks the arguments before reading the checkpoint
            try runPredict(checkpoint: ck, videos: r.videos, topK: r.topK, timeline: r.timeline, windowStride: r.windowStride,
                           json: r.json, write: write)
            return
        }
        if let w = r.windows, w < 1 { throw UserError("--windows: must be at least 1, got \(w)") }
        p = try Predictor(checkpoint: ck)
    case (nil, let folder?):
        guard !r.videos.isEmpty else { throw UserError("no video given (vmae predict --model HF_FOLDER VIDEO…)") }
        if let w = r.windows, w < 1 { throw UserError("--windows: must be at least 1, got \(w)") }
        let (ck, pre, _) = try HFModelFolder.load(folder)
        p = try Predictor(checkpoint: ck, source: folder, huggingFace: pre)
    }
    p.windows = r.windows
    p.saveFramesDir = r.saveFrames
    try runPredict(predictor: p, videos: r.videos, topK: r.topK, timeline: r.timeline, windowStride: r.windowStride,
                   json: r.json, write: write)
}
