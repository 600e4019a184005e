import DataPipeline
import ExitStatus
import Foundation

/// The training set a config names. `data.train_list` is a list file or a class-per-folder
/// directory; "random:N" gives N random clips (for smoke tests and benchmarks).
public func makeTrainDataset(_ cfg: TrainConfig) throws -> ClipDataset {
    try makeDataset(cfg, list: cfg.data.train_list, key: "data.train_list", training: true)
}

public func makeDataset(_ cfg: TrainConfig, list: String?, key: String, training: Bool) throws -> ClipDataset {
    guard let list else { throw UserError("\(key): not set (a list file of `path label` lines, or a folder with one subfolder per class)") }
    if list.hasPrefix("random:") {
        guard let n = Int(list.dropFirst(7)), n > 0 else { throw UserError("\(key): \"\(list)\": expected random:N with N > 0") }
        return RandomClips(count: n, frames: cfg.data.num_frames, channels: cfg.model.in_chans, size: cfg.data.input_size,
                           classes: cfg.model.num_classes ?? 2)
    }
    return try makeVideoDataset(cfg, list: list, key: key, training: training)
}
