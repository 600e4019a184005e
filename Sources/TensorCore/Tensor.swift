import Foundation

/// A contiguous, row-major float32 array with a shape. The storage is 64-byte aligned and
/// owned by the tensor (or, for views made by `reshaped`, by the tensor it came from).
/// Kernels take `data` once and work on the raw pointer.
public final class Tensor {
    public let shape: [Int]
    public let count: Int
    public let data: UnsafeMutablePointer<Float>
    private let owner: Tensor?  // non-nil for a view: keeps the storage alive

    /// A zero-filled tensor.
    public convenience init(zeros shape: [Int]) {
        self.init(uninitialized: shape)
        if Profiler.isOn {
            let t0 = Profiler.now()
            Tensor.fillZero(data, count)
            Profiler.addAllocation(since: t0)
        } else {
            Tensor.fillZero(data, count)
        }
    }

    /// p[0..<n] = 0; large buffers over the cores (one core's memset runs well below the memory
    /// bandwidth: zeroing vit-base's gradients took 34 ms of its step), serially inside a parallel loop.
    @inline(__always)
    static func fillZero(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        if n < 1 << 18 || insideParallelFor() { p.update(repeating: 0, count: n); return }
        parallelFor(n, minChunk: 1 << 17) { r in (p + r.lowerBound).update(repeating: 0, count: r.count) }
    }

    /// A tensor whose contents are garbage: for outputs a kernel writes in full.
    public init(uninitialized shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        if Profiler.isOn {
            let t0 = Profiler.now()
            self.data = BufferPool.take(bytes).bindMemory(to: Float.self, capacity: max(count, 1))
            Profiler.addAllocation(since: t0)
        } else {
            self.data = BufferPool.take(bytes).bindMemory(to: Float.self, capacity: max(count, 1))
        }
        self.owner = nil
        TensorStats.allocated(bytes)
    }

    public convenience init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.init(uninitialized: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    public convenience init(filled value: Float, shape: [Int]) {
        self.init(uninitialized: shape)
        data.initialize(repeating: value, count: count)
    }

    private init(view base: Tensor, shape: [Int]) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.data = base.data
        self.owner = base.owner ?? base
    }

    deinit {
        if owner == nil {
            let bytes = max(count, 1) * MemoryLayout<Float>.stride
            TensorStats.freed(bytes)
            if Profiler.isOn {
                let t0 = Profiler.now()
                BufferPool.give(UnsafeMutableRawPointer(data), bytes)
                Profiler.addAllocation(since: t0)
            } else {
                BufferPool.give(UnsafeMutableRawPointer(data), bytes)
            }
        }
    }

    /// The same storage under another shape with the same element count (no copy).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            s[i] = known == 0 ? 0 : count / known
        }
        precondition(s.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(view: self, shape: s)
    }

    public var rank: Int { shape.count }
    public func dim(_ i: Int) -> Int { shape[i < 0 ? shape.count + i : i] }

    /// Elements as a Swift array (for tests and small results, never in hot loops).
    public var array: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public subscript(flat i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }

    public func copy() -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.data.update(from: data, count: count)
        return t
    }

    public func fill(_ v: Float) { data.update(repeating: v, count: count) }
    /// Sets every element to 0 (large tensors over the cores).
    public func zero() { Tensor.fillZero(data, count) }

    public func copy(from other: Tensor) {
        precondition(other.count == count, "copy: \(other.shape) into \(shape)")
        data.update(from: other.data, count: count)
    }

    /// Strides (in elements) of the row-major layout.
    public var strides: [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = array.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor\(shape)[\(head)\(count > 8 ? ", …" : "")]"
    }
}

/// Live tensor memory, for the benchmark's memory report and leak tests.
public enum TensorStats {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var live = 0
    nonisolated(unsafe) private static var peak = 0
    static func allocated(_ n: Int) { lock.lock(); live += n; if live > peak { peak = live }; lock.unlock() }
    static func freed(_ n: Int) { lock.lock(); live -= n; lock.unlock() }
    public static var liveBytes: Int { lock.lock(); defer { lock.unlock() }; return live }
    public static var peakBytes: Int { lock.lock(); defer { lock.unlock() }; return peak }
    public static func resetPeak() { lock.lock(); peak = live; lock.unlock() }
}

/// Freed tensor storage kept for reuse, by exact size. A training step allocates the same
/// activation and gradient shapes every time; reusing them saves the page faults and kernel
/// zeroing that fresh multi-megabyte allocations cost (glibc maps each one anew).
public enum BufferPool {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [Int: [UnsafeMutableRawPointer]] = [:]
    nonisolated(unsafe) private static var cachedBytes = 0
    /// Upper bound on what the pool holds; beyond it storage goes back to the system.
    nonisolated(unsafe) public static var limitBytes = 4 << 30
    /// Buffers below this size go straight to malloc, which is fast for them.
    static let minPooled = 1 << 16

    static func take(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes >= minPooled {
            lock.lock()
            if var list = free[bytes], let p = list.popLast() {
                free[bytes] = list
                cachedBytes -= bytes
                lock.unlock()
                return p
            }
            lock.unlock()
        }
        var raw: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&raw, 64, bytes) == 0, let r = raw else {
            fatalError("out of memory allocating \(bytes) bytes for a tensor")
        }
        return r
    }

    static func give(_ p: UnsafeMutableRawPointer, _ bytes: Int) {
        if bytes >= minPooled {
            lock.lock()
            if cachedBytes + bytes <= limitBytes {
                free[bytes, default: []].append(p)
                cachedBytes += bytes
                lock.unlock()
                return
            }
            lock.unlock()
        }
        Foundation.free(p)
    }

    /// Returns every cached buffer to the system.
    public static func drain() {
        lock.lock()
        for (_, list) in free { for p in list { Foundation.free(p) } }
        free = [:]
        cachedBytes = 0
        lock.unlock()
    }

    public static var cached: Int { lock.lock(); defer { lock.unlock() }; return cachedBytes }
}
