import TensorCore

/// Which frames of a video make a clip. Pure functions of the frame count, the clip shape and
/// where the clip sits (`ClipPosition`): no decoding, no state.
///
/// `dense` (the original VideoMAE's default): `numFrames` frames `rate` apart, spanning
/// `numFrames · rate` frames. Training draws the start uniformly from `0 ... frameCount − span`
/// (the original's `randint(frameCount − span + 1)`), evaluation takes the centre, and view `v`
/// of `n` (multi-view testing) takes evenly spaced starts from the first to the last possible one.
///
/// **Short videos** (`frameCount < span`): the start is 0 and indices past the end are clamped to
/// the last frame, `min(k · rate, frameCount − 1)`: the clip covers the whole video at the
/// requested rate and then repeats the last frame, as the original's loaders do (its pretraining
/// loader stops advancing at the end; its fine-tuning loader pads with the last frame).
///
/// `uniform` (TSN's segment sampling, the original's `_sample_train_indices` with one frame per
/// segment): the video is cut into `numFrames` equal segments and one frame is taken from each —
/// a random one when training, the middle one when evaluating, the one at fraction
/// `(v + 0.5) / n` of the segment for view `v` of `n`. Shorter videos repeat frames (indices
/// never decrease, never leave `0 ..< frameCount`). `rate` is ignored.
public enum FrameSampling: String, Equatable, CaseIterable {
    case dense, uniform
}

/// Where a clip is taken from in its video.
public enum ClipPosition: Equatable {
    /// Random (training): drawn from the generator handed to `frameIndices`.
    case random
    /// The centre (evaluation).
    case centre
    /// View `index` of `count` evenly spread views (multi-view testing, `test_num_segment`).
    case view(Int, of: Int)
}

public enum ClipSampler {
    /// The frames `numFrames` frames of a `frameCount`-frame video would use (see `FrameSampling`).
    /// Every index is in `0 ..< frameCount` (`frameCount` ≥ 1).
    public static func frameIndices(frameCount: Int, numFrames: Int, rate: Int, sampling: FrameSampling,
                                    position: ClipPosition, rng: inout RNG) -> [Int] {
        precondition(frameCount >= 1 && numFrames >= 1 && rate >= 1)
        switch sampling {
        case .dense:
            let start = denseStart(frameCount: frameCount, span: numFrames * rate, position: position, rng: &rng)
            return denseIndices(frameCount: frameCount, numFrames: numFrames, rate: rate, start: start)
        case .uniform:
            return uniformIndices(frameCount: frameCount, numFrames: numFrames, position: position, rng: &rng)
        }
    }

    /// The first frame of a dense clip spanning `span` frames: 0 when the video is not longer
    /// than the span, else in `0 ... frameCount − span`.
    public static func denseStart(frameCount: Int, span: Int, position: ClipPosition, rng: inout RNG) -> Int {
        let room = frameCount - span  // the largest possible start
        guard room > 0 else { return 0 }
        switch position {
        case .random: return rng.int(below: room + 1)
        case .centre: return room / 2
        case let .view(i, n):
            guard n > 1 else { return room / 2 }
            return Int(Double(min(max(i, 0), n - 1)) * Double(room) / Double(n - 1))
        }
    }

    /// `start + k · rate` for k in 0 ..< numFrames, each clamped to `frameCount − 1`.
    public static func denseIndices(frameCount: Int, numFrames: Int, rate: Int, start: Int) -> [Int] {
        (0..<numFrames).map { min(start + $0 * rate, frameCount - 1) }
    }

    /// One frame per segment of `frameCount / numFrames` frames.
    public static func uniformIndices(frameCount: Int, numFrames: Int, position: ClipPosition, rng: inout RNG) -> [Int] {
        let seg = Double(frameCount) / Double(numFrames)
        return (0..<numFrames).map { k in
            let f: Double
            switch position {
            case .random: f = rng.uniformDouble()
            case .centre: f = 0.5
            case let .view(i, n): f = n > 1 ? (Double(min(max(i, 0), n - 1)) + 0.5) / Double(n) : 0.5
            }
            return min(Int((Double(k) + f) * seg), frameCount - 1)
        }
    }
}
