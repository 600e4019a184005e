import DataPipeline
import TensorCore
import XCTest

/// What the generator's doc comment promises about the bundled classes.
final class SyntheticVideosTests: XCTestCase {
    let size = 48, frames = 12

    func clip(_ c: Int, seed: UInt64, index: Int) -> [UInt8] {
        var rng = SyntheticVideos.clipRNG(seed: seed, classIndex: c, clip: index)
        return SyntheticVideos.render(classIndex: c, size: size, frames: frames, rng: &rng)
    }

    func frame(_ clip: [UInt8], _ t: Int) -> ArraySlice<UInt8> {
        let fs = size * size * 3
        return clip[(t * fs)..<((t + 1) * fs)]
    }

    /// The two classes of a pair drawn from the same generator state are each other played
    /// backwards, frame for frame: only the order of the frames tells them apart.
    func testEachPairIsTheOtherPlayedBackwards() {
        for pair in 0..<4 {
            for i in 0..<3 {
                // Both classes of a pair start from one state, so every draw (actor, pose, speed) agrees.
                var r1 = RNG(7, UInt64(pair), UInt64(i)), r2 = r1
                let a = SyntheticVideos.render(classIndex: 2 * pair, size: size, frames: frames, rng: &r1)
                let b = SyntheticVideos.render(classIndex: 2 * pair + 1, size: size, frames: frames, rng: &r2)
                for t in 0..<frames {
                    XCTAssertTrue(frame(a, t) == frame(b, frames - 1 - t),
                                  "pair \(pair) clip \(i): frame \(t) is not frame \(frames - 1 - t) of the other class")
                }
                XCTAssertFalse(frame(a, 0) == frame(a, frames - 1), "pair \(pair) clip \(i): the actor does not move")
            }
        }
    }

    /// Clip `i` of class `c` depends only on (seed, c, i); another seed or index gives another clip.
    func testAClipIsAFunctionOfSeedClassAndIndex() {
        for c in 0..<SyntheticVideos.classNames.count {
            XCTAssertEqual(clip(c, seed: 1, index: 4), clip(c, seed: 1, index: 4))
            XCTAssertNotEqual(clip(c, seed: 1, index: 4), clip(c, seed: 2, index: 4))
            XCTAssertNotEqual(clip(c, seed: 1, index: 4), clip(c, seed: 1, index: 5))
        }
    }
}
