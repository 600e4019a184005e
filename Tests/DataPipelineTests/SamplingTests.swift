import TensorCore
import XCTest

@testable import DataPipeline

final class SamplingTests: XCTestCase {
    func dense(_ n: Int, _ pos: ClipPosition, seed: UInt64 = 1, frames: Int = 16, rate: Int = 4) -> [Int] {
        var rng = RNG(seed: seed)
        return ClipSampler.frameIndices(frameCount: n, numFrames: frames, rate: rate, sampling: .dense, position: pos, rng: &rng)
    }

    func uniform(_ n: Int, _ pos: ClipPosition, seed: UInt64 = 1, frames: Int = 16) -> [Int] {
        var rng = RNG(seed: seed)
        return ClipSampler.frameIndices(frameCount: n, numFrames: frames, rate: 4, sampling: .uniform, position: pos, rng: &rng)
    }

    func testDenseLongVideo() {
        // 100 frames, span 64: starts 0...36.
        var starts = Set<Int>()
        for s in 0..<400 {
            let idx = dense(100, .random, seed: UInt64(s))
            XCTAssertEqual(idx.count, 16)
            XCTAssertEqual(idx, (0..<16).map { idx[0] + 4 * $0 })
            XCTAssertTrue((0...36).contains(idx[0]))
            starts.insert(idx[0])
        }
        XCTAssertEqual(starts, Set(0...36), "every start is reachable, none past the end")
        XCTAssertEqual(dense(100, .centre), (0..<16).map { 18 + 4 * $0 })
        XCTAssertEqual(dense(100, .view(0, of: 3))[0], 0)
        XCTAssertEqual(dense(100, .view(1, of: 3))[0], 18)
        XCTAssertEqual(dense(100, .view(2, of: 3))[0], 36)
        XCTAssertEqual(dense(100, .view(0, of: 1)), dense(100, .centre))
    }

    func testDenseExactVideo() {
        let expected = (0..<16).map { 4 * $0 }
        for s in 0..<20 { XCTAssertEqual(dense(64, .random, seed: UInt64(s)), expected) }
        XCTAssertEqual(dense(64, .centre), expected)
        XCTAssertEqual(dense(64, .view(1, of: 2)), expected)
        // One frame longer: two possible starts.
        XCTAssertEqual(Set((0..<50).map { dense(65, .random, seed: UInt64($0))[0] }), [0, 1])
    }

    func testDenseShortVideoClamps() {
        // 30 frames, span 64: the whole video at rate 4, then the last frame repeated.
        let expected = [0, 4, 8, 12, 16, 20, 24, 28, 29, 29, 29, 29, 29, 29, 29, 29]
        for s in 0..<10 { XCTAssertEqual(dense(30, .random, seed: UInt64(s)), expected) }
        XCTAssertEqual(dense(30, .centre), expected)
        XCTAssertEqual(dense(1, .random), [Int](repeating: 0, count: 16))
        XCTAssertEqual(dense(5, .centre, frames: 4, rate: 1), [0, 1, 2, 3])
        XCTAssertEqual(dense(3, .centre, frames: 4, rate: 1), [0, 1, 2, 2])
    }

    func testUniformSegments() {
        // 160 frames, 16 segments of 10.
        for s in 0..<50 {
            let idx = uniform(160, .random, seed: UInt64(s))
            for (k, i) in idx.enumerated() { XCTAssertTrue((10 * k)..<(10 * k + 10) ~= i, "segment \(k): \(i)") }
        }
        XCTAssertEqual(uniform(160, .centre), (0..<16).map { 10 * $0 + 5 })
        XCTAssertEqual(uniform(160, .view(0, of: 2)), (0..<16).map { 10 * $0 + 2 })
        XCTAssertEqual(uniform(160, .view(1, of: 2)), (0..<16).map { 10 * $0 + 7 })
        // exact: one frame per segment
        XCTAssertEqual(uniform(16, .random), Array(0..<16))
        // short: repeats, never decreasing, never out of range
        for n in [1, 5, 15] {
            for s in 0..<20 {
                let idx = uniform(n, .random, seed: UInt64(s))
                XCTAssertEqual(idx, idx.sorted())
                XCTAssertTrue(idx.allSatisfy { (0..<n).contains($0) })
            }
            XCTAssertEqual(Set(uniform(n, .centre)).count, n, "centred: every frame of a short video is used")
        }
    }

    func testSamplingIsAFunctionOfTheGenerator() {
        XCTAssertEqual(dense(500, .random, seed: 42), dense(500, .random, seed: 42))
        XCTAssertEqual(uniform(500, .random, seed: 42), uniform(500, .random, seed: 42))
        XCTAssertGreaterThan(Set((0..<8).map { dense(500, .random, seed: $0)[0] }).count, 1)
    }
}
