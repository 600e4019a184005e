import CBLAS
import Dispatch
import Foundation

/// How many cores vmae's kernels use (OpenBLAS always runs at one thread). Set once at start (`--threads`).
public enum Threads {
    /// Cores for vmae's kernels (all by default). First use also sets OpenBLAS to one thread.
    nonisolated(unsafe) public private(set) static var count: Int = {
        vmae_blas_set_threads(1)
        return ProcessInfo.processInfo.activeProcessorCount
    }()

    /// Use `n` cores. OpenBLAS itself stays at one thread: `BLAS.gemm` splits large products
    /// over the cores with Dispatch, like every other kernel, so the two pools never compete.
    public static func configure(_ n: Int) {
        count = max(1, n)
        vmae_blas_set_threads(1)
    }

    /// The cores this process may run on (its CPU affinity, e.g. one core when mpirun binds
    /// each rank to a core); all cores where that cannot be read.
    public static var allowedCores: Int {
        // Linux: the affinity mask as /proc shows it ("Cpus_allowed:\tff,ffffffff")
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) {
            let hex = line.dropFirst("Cpus_allowed:".count).filter { $0.isHexDigit }
            let n = hex.reduce(0) { $0 + (Int(String($1), radix: 16) ?? 0).nonzeroBitCount }
            if n > 0 { return n }
        }
        return ProcessInfo.processInfo.activeProcessorCount
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
        if lo < hi {
            let outer = pthread_getspecific(parallelKey)
            pthread_setspecific(parallelKey, UnsafeRawPointer(bitPattern: 1))
            body(lo..<hi)
            pthread_setspecific(parallelKey, outer)
        }
    }
}

/// Marks threads that are running a `parallelFor` body (a GEMM there stays on its core).
private let parallelKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

@inline(__always)
func insideParallelFor() -> Bool { pthread_getspecific(parallelKey) != nil }
