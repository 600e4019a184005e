import DataPipeline
import ExitStatus
import Foundation
import TensorCore

/// The clip options a config asks for (`data.*`).
public func clipOptions(_ cfg: TrainConfig) -> ClipOptions {
    ClipOptions(numFrames: cfg.data.num_frames, samplingRate: cfg.data.sampling_rate, inputSize: cfg.data.input_size,
                mean: cfg.data.mean.map(Float.init), std: cfg.data.std.map(Float.init),
                sampling: FrameSampling(rawValue: cfg.data.sampling) ?? .dense,
                decodeTimeout: cfg.data.decode_timeout_s,
                flipProbability: cfg.data.horizontal_flip ? 0.5 : 0, minCropArea: cfg.data.min_crop_area,
                eraseProbability: cfg.finetune.reprob, randAugment: cfg.finetune.randAugment,
                cacheMiB: cfg.data.cache_mib ?? 0)
}

/// A list file or class-per-folder directory as the trainer's dataset. `training`: pretraining
/// clips (multi-scale crop) or fine-tuning clips (random resized crop + flip) by `cfg.task`;
/// else evaluation clips (centre clip, centre crop; `withMode` gives the other views).
/// Problems with the list, and a list that turns out mostly unreadable, are `UserError`s naming
/// `key` and the path.
func makeVideoDataset(_ cfg: TrainConfig, list: String, key: String, training: Bool) throws -> ClipDataset {
    let mode: ClipMode = training ? (cfg.task == "finetune" ? .finetune : .pretrain) : .evalCentre
    do {
        let videos = try VideoList.load(list, root: cfg.data.root, requireLabels: cfg.task == "finetune")
        for w in videos.warnings { printErr("warning: \(key): \(w)") }
        return VideoDataset(try VideoClipDataset(list: videos, options: clipOptions(cfg), mode: mode), key: key)
    } catch let e as DataError {
        throw UserError("\(key): \(e.message)")
    }
}

/// A `VideoClipDataset` whose data errors (more than half of the videos unreadable) surface as
/// `UserError`s naming the config key, so the run stops with exit status 2 and a clear line.
public final class VideoDataset: ClipDataset {
    public let clips: VideoClipDataset
    public let key: String

    public init(_ clips: VideoClipDataset, key: String) {
        self.clips = clips
        self.key = key
    }

    public var count: Int { clips.count }
    public var classNames: [String] { clips.classNames }

    public func sample(index: Int, epoch: Int, seed: UInt64) throws -> Sample {
        do { return try clips.sample(index: index, epoch: epoch, seed: seed) } catch let e as DataError {
            throw UserError("\(key): \(e.message)")
        }
    }

    /// The same videos in another mode (multi-view testing), sharing the record of bad files.
    public func withMode(_ mode: ClipMode) -> VideoDataset { VideoDataset(clips.withMode(mode), key: key) }
}

/// The end-of-run line about unreadable videos, or nil when none was skipped (or the dataset
/// does not decode videos).
public func skippedFilesReport(_ dataset: ClipDataset) -> String? {
    let clips = (dataset as? VideoDataset)?.clips ?? (dataset as? VideoClipDataset)
    guard let c = clips, c.skippedCount > 0 else { return nil }
    let n = c.skippedCount
    return "skipped \(n) unreadable video\(n == 1 ? "" : "s") of \(c.count) in \(c.list.origin) (each reported above when first met)"
}
