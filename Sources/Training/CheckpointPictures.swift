import DataPipeline
import ExitStatus
import Foundation
import Pictures
import RunConfig
import TensorCore
import VideoMAE

/// The pictures a run leaves in `output_dir` at each checkpoint:
///   • `recon-STEP.png` (pretraining; STEP with 8 digits, like the checkpoints): the
///     reconstruction of one fixed validation clip under one fixed mask, so that the pictures
///     of successive checkpoints can be compared — the first clip of `data.val_list` (its
///     evaluation view: centre clip, centre crop), or of `data.train_list` when there is no
///     val list, or a fixed random clip for "random:N" data; the mask is drawn from the run's
///     seed with the config's mask type and ratio;
///   • `curves.png`, redrawn from `metrics.jsonl` (every run).
/// Nothing here ever stops training: a failure prints one `warning:` line on stderr and the
/// run goes on (a clip that cannot be loaded is reported once and not tried again).
public final class CheckpointPictures {
    public let cfg: TrainConfig
    private var clip: Tensor?
    private var mask: [Bool]?
    private var gaveUp = false
    /// Where warnings go (stderr by default).
    public var warn: (String) -> Void = { printErr($0) }

    public init(config: TrainConfig) {
        cfg = config
    }

    public var outputDir: String { cfg.output_dir }
    public func reconPath(step: Int) -> String { cfg.output_dir + String(format: "/recon-%08d.png", step) }
    public var curvesPath: String { cfg.output_dir + "/curves.png" }

    /// Installs the pictures on a trainer: after each pretraining checkpoint, a reconstruction
    /// and the curves.
    public func install(on trainer: Trainer) {
        trainer.afterCheckpoint = { [self, weak trainer] model, step in
            self.afterPretrainCheckpoint(model: model, step: step, tensorBoard: trainer?.tensorBoard)
        }
    }

    /// Writes `recon-STEP.png` (and the same picture as TensorBoard's `recon` image), then
    /// redraws `curves.png`. Never throws.
    public func afterPretrainCheckpoint(model: PretrainModel, step: Int, tensorBoard: TensorBoardLog? = nil) {
        if let (clip, mask) = fixedClipAndMask(model: model) {
            do {
                let r = Reconstructor.reconstruct(model: model, clip: clip, mask: mask)
                let title = String(format: "step %d · validation clip · %@ mask %g%% · masked-pixel MSE %.4f", step,
                                   cfg.mask.type, (cfg.mask.ratio * 1000).rounded() / 10, r.mse)
                let picture = Reconstructor.render(r, title: title)
                tensorBoard?.image("recon", width: picture.width, height: picture.height, rgb: picture.rgb, step: step)
                try picture.save(path: reconPath(step: step))
            } catch {
                warn("warning: pictures: cannot write \(reconPath(step: step)): \(error)")
            }
            pruneRecons(keeping: step)
        }
        CheckpointPictures.redrawCurves(outputDir: cfg.output_dir, warn: warn)
    }

    /// Removes each `recon-STEP.png` whose `checkpoint-STEP.h5` is gone (pruned by keep_last),
    /// but the one of `step`: the pictures follow their checkpoints, so a long run keeps
    /// keep_last of them, not one per checkpoint ever written (TensorBoard's `recon` image keeps
    /// every one, in the event file).
    func pruneRecons(keeping step: Int) {
        let dir = cfg.output_dir
        for n in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            guard n.hasPrefix("recon-"), n.hasSuffix(".png"), n.count == "recon-00000000.png".count,
                  let s = Int(n.dropFirst("recon-".count).dropLast(".png".count)), s != step,
                  !FileManager.default.fileExists(atPath: dir + String(format: "/checkpoint-%08d.h5", s)) else { continue }
            try? FileManager.default.removeItem(atPath: dir + "/" + n)
        }
    }

    /// Redraws `output_dir/curves.png` from `output_dir/metrics.jsonl`. Never throws: a failure
    /// is one warning line. The hook for fine-tuning: call it after each checkpoint (and after
    /// each evaluation, whose metrics line it then shows).
    public static func redrawCurves(outputDir: String, warn: (String) -> Void = { printErr($0) }) {
        let out = outputDir + "/curves.png"
        do { try Curves.draw(metricsPath: outputDir + "/metrics.jsonl", out: out) } catch {
            warn("warning: pictures: cannot write \(out): \(error)")
        }
    }

    /// The validation clip and mask, made once (nil, with one warning, when they cannot be).
    func fixedClipAndMask(model: PretrainModel) -> (Tensor, [Bool])? {
        if let clip, let mask { return (clip, mask) }
        if gaveUp { return nil }
        do {
            let c = model.config
            let gen = MaskGenerator(MaskType(rawValue: cfg.mask.type) ?? .tube, ratio: cfg.mask.ratio, config: c)
            guard gen.maskedCount > 0 else {
                throw UserError("mask.ratio \(cfg.mask.ratio) hides no tubelet, so there is nothing to reconstruct")
            }
            var rng = RNG(UInt64(bitPattern: Int64(cfg.seed)), 0x9EC0)
            let m = gen.sample(&rng)
            let useVal = cfg.data.val_list != nil
            let ds = try makeDataset(cfg, list: useVal ? cfg.data.val_list : cfg.data.train_list,
                                     key: useVal ? "data.val_list" : "data.train_list", training: false)
            guard ds.count > 0 else { throw UserError("the list holds no clips") }
            let s = try ds.sample(index: 0, epoch: 0, seed: UInt64(bitPattern: Int64(cfg.seed)) ^ 0x7EC0_11D5)
            let shape = [c.num_frames, c.in_chans, c.img_size, c.img_size]
            guard s.pixels.shape == shape || s.pixels.shape == [1] + shape else {
                throw UserError("the validation clip has shape \(s.pixels.shape), the model takes \(shape)")
            }
            clip = s.pixels
            mask = m
            return (s.pixels, m)
        } catch {
            gaveUp = true
            warn("warning: pictures: no reconstructions for this run (\(error))")
            return nil
        }
    }
}
