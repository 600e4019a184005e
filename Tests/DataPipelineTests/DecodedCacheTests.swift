import Foundation
import TensorCore
import TestSupport
import XCTest

@testable import DataPipeline

/// `ClipOptions.cacheMiB` (`data.cache_mib`): whole videos decoded once and kept; every clip is
/// byte-for-byte the clip the uncached dataset gives, in every mode, and the budget holds.
final class DecodedCacheTests: TempDirTestCase {
    func testCachedClipsEqualDecodedOnesInEveryMode() throws {
        let s = try SyntheticVideos.generate(out: path("syn"), classes: 2, clipsPerClass: 3, size: 32, frames: 24, seed: 5, valPerClass: 0)
        XCTAssertEqual(s.trainClips, 6)
        let list = try VideoList.load(path("syn/train.csv"))
        var plain = ClipOptions(numFrames: 4, samplingRate: 2, inputSize: 24)
        plain.randAugment = try RandAugment(spec: "rand-m7-n4-mstd0.5-inc1")
        var cached = plain
        cached.cacheMiB = 64
        for mode in [ClipMode.pretrain, .finetune, .evalCentre, .eval(segment: 1, segments: 2, crop: 2, crops: 3)] {
            let a = try VideoClipDataset(list: list, options: plain, mode: mode)
            let b = try VideoClipDataset(list: list, options: cached, mode: mode)
            for epoch in 0..<3 {  // epoch 0 fills the cache, the others read from it
                for i in 0..<list.entries.count {
                    let x = try a.sample(index: i, epoch: epoch, seed: 7).pixels
                    let y = try b.sample(index: i, epoch: epoch, seed: 7).pixels
                    XCTAssertEqual(x.shape, y.shape)
                    XCTAssertEqual(x.array, y.array, "\(mode), epoch \(epoch), clip \(i)")
                }
            }
            XCTAssertEqual(a.cachedBytes, 0, "off by default")
            // 6 videos × 24 frames × 3 bytes at the decode size: training 32² (the 34-pixel target
            // is larger than the video, which is never enlarged), evaluation 24² (short side = input)
            let side = mode.isTraining ? 32 : 24
            XCTAssertEqual(b.cachedBytes, 6 * 24 * side * side * 3, "\(mode): every video once")
        }
    }

    func testBudgetAndLongVideosAreRespected() throws {
        _ = try SyntheticVideos.generate(out: path("syn"), classes: 2, clipsPerClass: 2, size: 32, frames: 24, seed: 6, valPerClass: 0)
        let list = try VideoList.load(path("syn/train.csv"))
        let perVideo = 24 * 32 * 32 * 3  // 73,728 bytes
        var o = ClipOptions(numFrames: 4, samplingRate: 2, inputSize: 24)
        o.cacheMiB = 1  // 1 MiB holds 14 such videos: all 4
        let ds = try VideoClipDataset(list: list, options: o, mode: .pretrain)
        for i in 0..<4 { _ = try ds.sample(index: i, epoch: 0, seed: 1) }
        XCTAssertEqual(ds.cachedBytes, 4 * perVideo)
        // a video of more than 4× a clip's span (here 24 frames > 4 × 2 × 2) is decoded clip by clip
        var short = o
        short.numFrames = 2
        let ds2 = try VideoClipDataset(list: list, options: short, mode: .pretrain)
        let plain = try VideoClipDataset(list: list, options: { var p = short; p.cacheMiB = 0; return p }(), mode: .pretrain)
        for i in 0..<4 {
            XCTAssertEqual(try ds2.sample(index: i, epoch: 2, seed: 1).pixels.array, try plain.sample(index: i, epoch: 2, seed: 1).pixels.array)
        }
        XCTAssertEqual(ds2.cachedBytes, 0, "24 frames is more than 4 × 4: not cached")
        // a budget smaller than one video keeps nothing, and the clips are still right
        let big = try SyntheticVideos.generate(out: path("big"), classes: 1, clipsPerClass: 2, size: 256, frames: 16, seed: 6, valPerClass: 0)
        XCTAssertEqual(big.trainClips, 2)
        var tiny = o
        tiny.cacheMiB = 1
        tiny.inputSize = 224
        let bl = try VideoList.load(path("big/train.csv"))
        let ds3 = try VideoClipDataset(list: bl, options: tiny, mode: .evalCentre)  // eval decodes at the 224 short side
        _ = try ds3.sample(index: 0, epoch: 0, seed: 1)
        XCTAssertEqual(ds3.cachedBytes, 0, "16 × 224² × 3 = 2.4 MB does not fit in 1 MiB")
    }
}
