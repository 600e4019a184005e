import Checkpoint
import DataPipeline
import ExitStatus
import Foundation
import Pictures
import RunConfig
import TensorCore
import VideoIO
import VideoMAE

/// A pretraining checkpoint ready to reconstruct clips: its config (clip shape, normalization,
/// mask) and its model with the decoder.
public final class ReconstructionModel {
    public let path: String
    public let cfg: TrainConfig
    public let model: PretrainModel
    public let step: Int

    /// Reads a pretraining checkpoint. A missing or foreign file, or a checkpoint of another
    /// task, is a `UserError`.
    public init(checkpoint path: String) throws {
        self.path = path
        let ck = try readCheckpoint(path)
        guard ck.task == "pretrain" else {
            throw UserError("\(path): a \(ck.task) checkpoint has no decoder; vmae reconstruct needs a pretraining checkpoint (task \"pretrain\")")
        }
        cfg = try storedConfig(of: ck, path: path)
        model = PretrainModel(cfg.modelConfig(numClasses: max(cfg.model.num_classes ?? 1, 1)))
        model.mean = cfg.data.mean.map(Float.init)
        model.std = cfg.data.std.map(Float.init)
        try ModelState.load(model, from: ck, path: path)
        step = ck.step
    }

    /// The mask `vmae reconstruct` uses: `type` and `ratio` (default: the checkpoint's), drawn
    /// from `seed`. Ratios outside (0, 1), or too small to hide one tubelet, are `UserError`s.
    public func mask(type: String?, ratio: Double?, seed: Int) throws -> (mask: [Bool], type: MaskType, ratio: Double) {
        let name = type ?? cfg.mask.type
        guard let mt = MaskType(rawValue: name) else { throw UserError("--mask: must be \"tube\" or \"random\", got \"\(name)\"") }
        let r = ratio ?? cfg.mask.ratio
        guard r.isFinite, r > 0, r < 1 else { throw UserError("--ratio: must be between 0 and 1 (exclusive), got \(r)") }
        let gen = MaskGenerator(mt, ratio: r, config: model.config)
        guard gen.maskedCount > 0 else {
            let unit = mt == .tube ? gen.spatialTokens : gen.tokens
            throw UserError("--ratio \(r) hides no tubelet of this model's \(unit) \(mt == .tube ? "spatial positions" : "tokens") (use at least \(String(format: "%.3g", 1 / Double(unit))))")
        }
        var rng = RNG(UInt64(bitPattern: Int64(seed)), 0x4EC0)
        return (gen.sample(&rng), mt, r)
    }
}

/// Evaluation-mode clip loading for one video file, through the data pipeline's validation
/// view (`ClipMode.evalCentre`): the centre clip of `data.num_frames` frames (`data.sampling`,
/// `data.sampling_rate`), short side resized to `data.input_size`, centre crop, normalized with
/// `data.mean`/`std`: `[T, C, S, S]`. A video that cannot be opened or decoded is a `UserError`.
public enum ReconstructClip {
    public static func load(video: String, cfg: TrainConfig) throws -> Tensor {
        guard cfg.model.in_chans == 3 else {
            throw UserError("\(video): the model takes \(cfg.model.in_chans) channels; video frames have 3")
        }
        func fail(_ why: String) -> UserError { UserError("\(video): cannot decode the video (\(why))") }
        do {
            _ = try VideoReader(path: video, deadline: cfg.data.decode_timeout_s)  // a clear message for a bad file
            let list = VideoList(entries: [VideoEntry(path: video, label: 0)], classNames: ["video"], origin: video)
            let clips = try VideoClipDataset(list: list, options: clipOptions(cfg), mode: .evalCentre)
            var rng = RNG(seed: 0)  // unused by the evaluation view
            return try clips.clip(path: video, mode: .evalCentre, rng: &rng)
        } catch let e as VideoError {
            throw fail("\(e.kind.rawValue): \(e.reason)")
        } catch let e as DataError {
            throw fail(e.message)
        }
    }
}

/// `vmae reconstruct`: the checkpoint's model on the centre clip of `video` under a seeded mask;
/// writes the picture to `out` and returns the reconstruction. `write` receives the lines to print.
@discardableResult
public func runReconstruct(checkpoint: String, video: String, out: String, seed: Int = 0, mask maskType: String? = nil,
                           ratio: Double? = nil, maxWidth: Int = 2000,
                           write: (String) -> Void = { print($0) }) throws -> Reconstruction {
    if let r = ratio, !(r.isFinite && r > 0 && r < 1) {
        throw UserError("--ratio: must be between 0 and 1 (exclusive), got \(r)")
    }
    if let m = maskType, MaskType(rawValue: m) == nil { throw UserError("--mask: must be \"tube\" or \"random\", got \"\(m)\"") }
    guard !out.isEmpty else { throw UserError("--out: empty path") }
    let rm = try ReconstructionModel(checkpoint: checkpoint)
    let (mask, type, r) = try rm.mask(type: maskType, ratio: ratio, seed: seed)
    let clip = try ReconstructClip.load(video: video, cfg: rm.cfg)
    let rec = Reconstructor.reconstruct(model: rm.model, clip: clip, mask: mask)
    let name = URL(fileURLWithPath: video).lastPathComponent
    let title = String(format: "%@ · step %d · %@ mask %g%%, seed %d · masked-pixel MSE %.4f", name, rm.step, type.rawValue,
                       (r * 1000).rounded() / 10, seed, rec.mse)
    let size: (width: Int, height: Int)
    do { size = try Reconstructor.draw(rec, title: title, out: out, maxWidth: maxWidth) } catch let e as VideoError {
        throw UserError("--out \(out): cannot write the picture (\(e.reason))")
    }
    write(Reconstructor.summary(rec, maskType: type.rawValue, ratio: r))
    write("wrote \(out) (\(size.width)×\(size.height): original, masked input, reconstruction; \(rec.original.count) frames)")
    return rec
}
