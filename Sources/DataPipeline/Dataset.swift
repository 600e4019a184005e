import Foundation
import TensorCore

/// One training example: a clip ready for the model and its label.
public struct Sample {
    /// [T, C, H, W], float32, normalized with the config's mean and std.
    public let pixels: Tensor
    public let label: Int
    /// Where it came from (a video path), for messages.
    public let source: String

    public init(pixels: Tensor, label: Int, source: String) {
        self.pixels = pixels
        self.label = label
        self.source = source
    }
}

/// A list of clips. What sample `index` of `epoch` gets (which frames, which crop, which flip)
/// depends only on (seed, epoch, index), so a resumed run sees exactly the data an
/// uninterrupted one would.
public protocol ClipDataset: AnyObject {
    var count: Int { get }
    var classNames: [String] { get }
    func sample(index: Int, epoch: Int, seed: UInt64) throws -> Sample
}

/// Random clips: the benchmark's input, and a stand-in when no data is configured.
public final class RandomClips: ClipDataset {
    public let count: Int
    public let shape: [Int]  // [T, C, H, W]
    public let classNames: [String]

    public init(count: Int, frames: Int, channels: Int = 3, size: Int, classes: Int = 2) {
        self.count = count
        shape = [frames, channels, size, size]
        classNames = (0..<classes).map { "class\($0)" }
    }

    public func sample(index: Int, epoch: Int, seed: UInt64) throws -> Sample {
        var rng = RNG(seed, UInt64(epoch), UInt64(index), 0xC11B)
        let t = Tensor(uninitialized: shape)
        rng.fillNormal(t)
        return Sample(pixels: t, label: index % classNames.count, source: "random:\(index)")
    }
}

/// The order of an epoch's samples: a permutation drawn from (seed, epoch) alone.
public func epochOrder(count: Int, epoch: Int, seed: UInt64) -> [Int] {
    var rng = RNG(seed, UInt64(epoch), 0x0DE5)
    return rng.permutation(count)
}
