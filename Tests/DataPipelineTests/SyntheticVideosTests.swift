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
        for actors in SyntheticVideos.Actors.allCases {
        for pair in 0..<4 {
            for i in 0..<3 {
                // Both classes of a pair start from one state, so every draw (actor, pose, speed) agrees.
                var r1 = RNG(7, UInt64(pair), UInt64(i)), r2 = r1
                let a = SyntheticVideos.render(classIndex: 2 * pair, size: size, frames: frames, rng: &r1, actors: actors)
                let b = SyntheticVideos.render(classIndex: 2 * pair + 1, size: size, frames: frames, rng: &r2, actors: actors)
                for t in 0..<frames {
                    XCTAssertTrue(frame(a, t) == frame(b, frames - 1 - t),
                                  "pair \(pair) clip \(i): frame \(t) is not frame \(frames - 1 - t) of the other class")
                }
                XCTAssertFalse(frame(a, 0) == frame(a, frames - 1), "pair \(pair) clip \(i): the actor does not move")
            }
        }
        }
    }

    /// Two-tone actors are the textured ones repainted: the same background, the same pixels
    /// covered by the actor in every frame (shape, place, pose, motion), and inside it only the
    /// two colours, each a single region split by one straight line.
    func testTwoToneActorsAreTheTexturedOnesRepainted() {
        for c in 0..<SyntheticVideos.classNames.count {
            for i in 0..<2 {
                var r1 = SyntheticVideos.clipRNG(seed: 3, classIndex: c, clip: i), r2 = r1
                let textured = SyntheticVideos.render(classIndex: c, size: size, frames: frames, rng: &r1, actors: .textured)
                let twoTone = SyntheticVideos.render(classIndex: c, size: size, frames: frames, rng: &r2, actors: .twoTone)
                XCTAssertEqual(r1.next(), r2.next(), "class \(c): the same draws, so the next clip is unchanged too")
                // wherever the two differ (inside the actor, where the texture and the split disagree)
                // the two-tone clip holds one of its two colours
                let n = size * size
                var colours = Set<[UInt8]>()
                for t in 0..<frames {
                    for p in 0..<n {
                        let o = (t * n + p) * 3
                        let a = Array(textured[o..<(o + 3)]), b = Array(twoTone[o..<(o + 3)])
                        if a != b { colours.insert(b) }
                    }
                }
                XCTAssertTrue((1...2).contains(colours.count), "class \(c) clip \(i): two-tone pixels differ from textured ones in \(colours.count) colours")
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
