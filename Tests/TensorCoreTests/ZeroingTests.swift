@testable import TensorCore
import XCTest

/// Zero-filled storage, including the large buffers zeroed over the cores and buffers the pool
/// hands back with a previous tensor's contents.
final class ZeroingTests: XCTestCase {
    func testLargeZerosAreZeroEvenFromARecycledBuffer() {
        let before = Threads.count
        defer { Threads.configure(before) }
        Threads.configure(2)
        let n = (1 << 19) + 13           // over the parallel threshold, not a multiple of the chunk
        do { let t = Tensor(filled: 7, shape: [n]); XCTAssertEqual(t[flat: n - 1], 7) }   // back to the pool
        let z = Tensor(zeros: [n])
        XCTAssertNil((0..<n).first { z[flat: $0] != 0 }, "a zeros tensor has a non-zero element")
        let f = Tensor(filled: -3, shape: [n])
        f.zero()
        XCTAssertNil((0..<n).first { f[flat: $0] != 0 }, "zero() left a non-zero element")
    }

    func testZeroInsideAParallelLoopStaysOnItsCore() {
        let before = Threads.count
        defer { Threads.configure(before) }
        Threads.configure(2)
        let ts = (0..<2).map { _ in Tensor(filled: 1, shape: [1 << 19]) }
        parallelFor(2, minChunk: 1) { r in for i in r { ts[i].zero() } }
        for t in ts { XCTAssertNil((0..<t.count).first { t[flat: $0] != 0 }) }
    }
}
