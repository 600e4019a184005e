import Dispatch
import Foundation

/// The counters behind `vmae bench --profile`: GEMM FLOPs and time spent allocating tensor
/// storage. Off unless a profile is running; every hook on the normal path is one branch on
/// `isOn`, which is false and predictable. The per-op split lives in Autodiff (`OpProfile`).
public enum Profiler {
    nonisolated(unsafe) public private(set) static var isOn = false
    private static let lock = NSLock()
    nonisolated(unsafe) private static var flopCount: Double = 0
    nonisolated(unsafe) private static var allocNanos: UInt64 = 0

    /// Monotonic nanoseconds.
    @inline(__always)
    public static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    public static func start() {
        lock.lock(); flopCount = 0; allocNanos = 0; lock.unlock()
        isOn = true
    }

    public static func stop() { isOn = false }

    /// FLOPs (2·m·n·k per GEMM) counted since `start`, on every thread.
    public static var flops: Double { lock.lock(); defer { lock.unlock() }; return flopCount }
    /// Wall nanoseconds the calling (main) thread spent taking, zeroing and returning tensor storage.
    public static var allocationNanos: UInt64 { lock.lock(); defer { lock.unlock() }; return allocNanos }

    @inline(__always)
    static func addFlops(_ m: Int, _ n: Int, _ k: Int) {
        lock.lock(); flopCount += 2 * Double(m) * Double(n) * Double(k); lock.unlock()
    }

    /// Allocation time counts on the thread that runs the step only: inside a parallel kernel
    /// it is part of that kernel's wall time already.
    @inline(__always)
    static func addAllocation(since t0: UInt64) {
        if insideParallelFor() { return }
        let dt = now() &- t0
        lock.lock(); allocNanos &+= dt; lock.unlock()
    }
}
