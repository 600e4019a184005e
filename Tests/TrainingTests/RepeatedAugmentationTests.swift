import DataPipeline
import Foundation
import TensorCore
import XCTest

@testable import RunConfig
@testable import Training

/// The original fine-tuning's repeated augmentation (`num_sample`, 2): each video of a batch
/// gives that many differently drawn clips, one after another.
final class RepeatedAugmentationTests: XCTestCase {
    func clip(_ b: Batch, _ i: Int) -> [Float] {
        let per = b.pixels.count / b.pixels.shape[0]
        return Array(UnsafeBufferPointer(start: b.pixels.data + i * per, count: per))
    }

    /// repeats 2: twice the clips, labels and indices in pairs; the first clip of each pair is
    /// the clip a run without repeats draws, the second another one of the same video.
    func testEachSampleComesTwiceWithItsOwnDraws() throws {
        let ds = RandomClips(count: 10, frames: 2, size: 8, classes: 3)
        let plain = BatchLoader(dataset: ds, batchSize: 4, seed: 3, workers: 0)
        let twice = BatchLoader(dataset: ds, batchSize: 4, seed: 3, workers: 0, repeats: 2)
        XCTAssertEqual(twice.stepsPerEpoch, plain.stepsPerEpoch)
        XCTAssertEqual(twice.clipsPerStep, 8)
        for step in 0..<5 {
            let a = try plain.load(step: step), b = try twice.load(step: step)
            XCTAssertEqual(b.pixels.shape[0], 8)
            XCTAssertEqual(b.indices, a.indices.flatMap { [$0, $0] })
            XCTAssertEqual(b.labels, a.labels.flatMap { [$0, $0] })
            XCTAssertEqual(b.epoch, a.epoch)
            for k in 0..<4 {
                XCTAssertEqual(clip(b, 2 * k), clip(a, k), "step \(step) sample \(k)")
                XCTAssertNotEqual(clip(b, 2 * k + 1), clip(b, 2 * k), "step \(step) sample \(k): the repeat is the same clip")
            }
        }
    }

    /// With repeats, K ranks still take together exactly the clips of one process with K·b.
    func testRanksWithRepeatsTakeTheClipsOfOneProcess() throws {
        let ds = RandomClips(count: 13, frames: 2, size: 8)
        let one = BatchLoader(dataset: ds, batchSize: 4, seed: 5, workers: 0, repeats: 2, rank: 0, worldSize: 1)
        let ranks = (0..<2).map { BatchLoader(dataset: ds, batchSize: 2, seed: 5, workers: 0, repeats: 2, rank: $0, worldSize: 2) }
        for step in 0..<4 {
            let whole = try one.load(step: step)
            let parts = try ranks.map { try $0.load(step: step) }
            XCTAssertEqual(parts.flatMap(\.indices), whole.indices)
            XCTAssertEqual(parts.flatMap { p in (0..<4).map { clip(p, $0) } }, (0..<8).map { clip(whole, $0) })
        }
    }

    func testTheConfigKeyDefaultsToTheOriginalsTwo() throws {
        XCTAssertEqual(try TrainConfig.load(path: nil, overrides: ["task=finetune"]).finetune.num_sample, 2)
        for bad in ["0", "17"] {
            XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["task=finetune", "finetune.num_sample=\(bad)"])) { e in
                XCTAssertTrue("\(e)".contains("finetune.num_sample"), "\(e)")
            }
        }
    }
}
