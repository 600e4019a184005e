import DataPipeline
import ExitStatus
import Foundation
import TensorCore
import Training

/// `vmae bench data`: how many clips per second the data pipeline decodes and transforms,
/// through the trainer's own `BatchLoader` with `workers` threads (batches of `batch` clips,
/// consumed as fast as they come). Without a list it generates a small synthetic set (the
/// bundled dataset's format: 32-frame 112-pixel mp4 clips) in a temporary folder.
public enum DataBench {
    public struct Result: Codable {
        public let list: String
        public let videos: Int
        public let mode: String
        public let frames: Int
        public let size: Int
        public let sampling_rate: Int
        public let workers: Int
        public let batch: Int
        public let clips: Int
        public let seconds: Double
        public let clips_per_s: Double
        /// Decode + transform of one clip on one thread (median), milliseconds.
        public let ms_per_clip: Double
        public let skipped: Int
    }

    public static func run(list: String?, root: String? = nil, frames: Int = 16, size: Int = 112, samplingRate: Int = 4,
                           workers: Int = 2, clips: Int = 96, batch: Int = 8, mode: String = "pretrain",
                           sampling: String = "dense", decodeScale: Double? = nil, seed: UInt64 = 0, log: (String) -> Void = { _ in }) throws -> Result {
        let clipMode: ClipMode
        switch mode {
        case "pretrain": clipMode = .pretrain
        case "finetune": clipMode = .finetune
        case "eval": clipMode = .evalCentre
        default: throw UserError("--mode: expected pretrain, finetune or eval, got \"\(mode)\"")
        }
        guard let samp = FrameSampling(rawValue: sampling) else {
            throw UserError("--sampling: expected dense or uniform, got \"\(sampling)\"")
        }
        var listPath = list
        var tmp: String? = nil
        defer { if let t = tmp { try? FileManager.default.removeItem(atPath: t) } }
        if listPath == nil {
            let t = FileManager.default.temporaryDirectory.appendingPathComponent("vmae-bench-data-\(UUID().uuidString)").path
            tmp = t
            let s = try SyntheticVideos.generate(out: t, classes: 8, clipsPerClass: 5, size: 112, frames: 32, seed: 7, valPerClass: 0)
            log("generated \(s)")
            listPath = t + "/train.csv"
        }
        var options = ClipOptions(numFrames: frames, samplingRate: samplingRate, inputSize: size, sampling: samp)
        if let d = decodeScale { options.trainDecodeScale = d }
        let ds: VideoClipDataset
        do {
            let videos = try VideoList.load(listPath!, root: root, requireLabels: false)
            ds = try VideoClipDataset(list: videos, options: options, mode: clipMode)
        } catch let e as DataError { throw UserError("--list: \(e.message)") }

        // One thread, one clip at a time: the cost of a clip.
        var times: [Double] = []
        for i in 0..<min(ds.count, 12) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try ds.sample(index: i, epoch: 0, seed: seed)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        times.sort()

        // Through the trainer's loader.
        let b = min(batch, ds.count)
        let loader = BatchLoader(dataset: ds, batchSize: b, seed: seed, workers: workers)
        let steps = max(1, clips / b)
        let t0 = DispatchTime.now().uptimeNanoseconds
        for s in 0..<steps {
            do { _ = try loader.next(step: s, lastStep: steps) } catch let e as DataError { throw UserError("--list: \(e.message)") }
        }
        let secs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        loader.drain()
        return Result(list: tmp == nil ? listPath! : "synthetic (temporary)", videos: ds.count, mode: mode, frames: frames,
                      size: size, sampling_rate: samplingRate, workers: workers, batch: b, clips: steps * b,
                      seconds: secs, clips_per_s: Double(steps * b) / secs,
                      ms_per_clip: times.isEmpty ? 0 : times[times.count / 2], skipped: ds.skippedCount)
    }
}
