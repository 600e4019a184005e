import TensorCore

/// Per-sample token indices for `gatherTokens`: B rows of n indices each, every index in 0..<N
/// (N = `sourceTokens`, the token count of the tensor it indexes). Stored contiguously as
/// Int32 [B, n] so kernels can read it through `pointer`. Immutable; copies share storage.
public struct TokenIndex {
    /// B: rows (samples).
    public let batch: Int
    /// n: indices per row.
    public let count: Int
    /// N: the token count the indices point into (every index is in 0..<N).
    public let sourceTokens: Int
    private let storage: Storage

    final class Storage {
        let base: UnsafeMutablePointer<Int32>
        init(_ n: Int) {
            base = .allocate(capacity: max(n, 1))
        }
        deinit { base.deallocate() }
    }

    /// - Parameters:
    ///   - rows: one array of token indices per sample; all of the same length.
    ///   - tokens: N, the number of tokens being indexed; every index must be in 0..<N.
    public init(_ rows: [[Int]], tokens sourceTokens: Int) {
        precondition(sourceTokens >= 0 && sourceTokens <= Int(Int32.max), "TokenIndex: bad token count \(sourceTokens)")
        let n = rows.first?.count ?? 0
        self.batch = rows.count
        self.count = n
        self.sourceTokens = sourceTokens
        self.storage = Storage(rows.count * n)
        let p = storage.base
        for (b, row) in rows.enumerated() {
            precondition(row.count == n, "TokenIndex: row \(b) has \(row.count) indices, row 0 has \(n)")
            for (i, v) in row.enumerated() {
                precondition(v >= 0 && v < sourceTokens, "TokenIndex: index \(v) at [\(b), \(i)] is outside 0..<\(sourceTokens)")
                p[b * n + i] = Int32(v)
            }
        }
    }

    /// The indices, Int32 [B, n] row-major. Valid while this TokenIndex (or a copy) is alive.
    public var pointer: UnsafePointer<Int32> { UnsafePointer(storage.base) }

    /// index[b][i]
    public subscript(b: Int, i: Int) -> Int {
        precondition(b >= 0 && b < batch && i >= 0 && i < count, "TokenIndex: [\(b), \(i)] out of [\(batch), \(count)]")
        return Int(storage.base[b * count + i])
    }

    /// Row b as an array (tests, bookkeeping; not for hot loops).
    public func row(_ b: Int) -> [Int] { (0..<count).map { self[b, $0] } }

    /// All rows as arrays.
    public var rows: [[Int]] { (0..<batch).map { row($0) } }
}
