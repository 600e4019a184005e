import CBLAS
import Dispatch
import Foundation

/// How many cores vmae's own kernels and OpenBLAS use. Set once at start (`--threads`).
public enum Threads {
    nonisolated(unsafe) public private(set) static var count: Int = ProcessInfo.processInfo.activeProcessorCount
    nonisolated(unsafe) public private(set) static var blasThreads: Int = ProcessInfo.processInfo.activeProcessorCount

    /// Use `n` threads for both vmae's kernels and OpenBLAS.
    public static func configure(_ n: Int) {
        count = max(1, n)
        setBLASThreads(count)
    }

    public static func setBLASThreads(_ n: Int) {
        blasThreads = n
        vmae_blas_set_threads(Int32(n))
    }
}

/// Runs `body` over disjoint chunks of 0..<n on up to `Threads.count` cores.
/// Chunks are at least `minChunk` long so small loops stay on one core.
@inline(__always)
public func parallelFor(_ n: Int, minChunk: Int = 4096, _ body: (Range<Int>) -> Void) {
    if n <= 0 { return }
    let workers = min(Threads.count, max(1, n / max(minChunk, 1)))
    if workers <= 1 { body(0..<n); return }
    let chunk = (n + workers - 1) / workers
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        let lo = w * chunk, hi = min(n, lo + chunk)
        if lo < hi { body(lo..<hi) }
    }
}
