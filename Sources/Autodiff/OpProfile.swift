import TensorCore

/// Where a step's time goes, per op (`vmae bench --profile`). The tape is the one place that
/// sees every op: `Tape.record` charges the time since the previous mark to the recording op's
/// forward, and the backward walk charges each op's backward closure to it. The op is named
/// by the file that recorded it (one differentiable op per file, so `Linear.swift` is `linear`).
/// Work between ops (index building, the pixel targets, AdamW) is charged to named phases by
/// whoever runs the step (`OpProfile.phase`); model code not covered by a phase lands on the
/// op that follows it. Allocation time (taking, zeroing and returning tensor storage on the
/// step's thread) is split out of every row into its own row, so the rows add up to the step.
public enum OpProfile {
    public struct Row: Codable, Equatable {
        public var name: String
        /// true for a differentiable op, false for a phase of the step outside the ops
        public var isOp: Bool
        public var forwardNanos: UInt64 = 0
        public var backwardNanos: UInt64 = 0
        public var forwardFlops: Double = 0
        public var backwardFlops: Double = 0
        public var forwardCalls = 0
        public var backwardCalls = 0
        public var totalNanos: UInt64 { forwardNanos + backwardNanos }
    }

    nonisolated(unsafe) private static var rows: [Row] = []
    nonisolated(unsafe) private static var byFile: [UInt: Int] = [:]
    nonisolated(unsafe) private static var byPhase: [String: Int] = [:]
    nonisolated(unsafe) private static var markTime: UInt64 = 0
    nonisolated(unsafe) private static var markFlops: Double = 0
    nonisolated(unsafe) private static var markAlloc: UInt64 = 0
    public static let allocationRow = "allocation (tensor storage)"

    public static var isOn: Bool { Profiler.isOn }

    /// Starts collecting (clears what was collected) and sets the mark to now.
    public static func start() {
        rows = []; byFile = [:]; byPhase = [:]
        Profiler.start()
        markTime = Profiler.now(); markFlops = 0; markAlloc = 0
    }

    /// Stops collecting and returns the rows in first-seen order (allocation last).
    @discardableResult
    public static func stop() -> [Row] {
        Profiler.stop()
        var out = rows.filter { $0.name != allocationRow }
        if let a = rows.first(where: { $0.name == allocationRow }) { out.append(a) }
        return out
    }

    /// Charges the time since the last mark to the named phase (outside the ops) and moves the mark.
    @inline(__always)
    public static func phase(_ name: String) {
        guard Profiler.isOn else { return }
        let i: Int
        if let j = byPhase[name] { i = j } else { i = newRow(name, isOp: false); byPhase[name] = i }
        charge(i, backward: false)
    }

    /// The row of the op recorded from `file`, made on first sight.
    static func opRow(_ file: StaticString) -> Int {
        let key = UInt(bitPattern: file.utf8Start)
        if let i = byFile[key] { return i }
        let name = opName(String(describing: file))  // two call sites of one file share a row
        let i = rows.firstIndex(where: { $0.isOp && $0.name == name }) ?? newRow(name, isOp: true)
        byFile[key] = i
        return i
    }

    /// "Autodiff/LayerNorm.swift" → "layerNorm" (the op's function name).
    public static func opName(_ fileID: String) -> String {
        var stem = Substring(fileID)
        if let slash = stem.lastIndex(of: "/") { stem = stem[stem.index(after: slash)...] }
        if stem.hasSuffix(".swift") { stem = stem.dropLast(6) }
        guard let first = stem.first else { return String(stem) }
        return first.lowercased() + stem.dropFirst()
    }

    private static func newRow(_ name: String, isOp: Bool) -> Int {
        rows.append(Row(name: name, isOp: isOp))
        return rows.count - 1
    }

    /// Time, FLOPs and allocation since the mark: time minus allocation to row `i`, the
    /// allocation to the allocation row; then the mark moves to now.
    static func charge(_ i: Int, backward: Bool) {
        let t = Profiler.now(), f = Profiler.flops, a = Profiler.allocationNanos
        let dt = t &- markTime, df = f - markFlops, da = min(a &- markAlloc, dt)
        if backward {
            rows[i].backwardNanos &+= dt - da; rows[i].backwardFlops += df; rows[i].backwardCalls += 1
        } else {
            rows[i].forwardNanos &+= dt - da; rows[i].forwardFlops += df; rows[i].forwardCalls += 1
        }
        if da > 0 {
            let ai: Int
            if let j = byPhase[allocationRow] { ai = j } else { ai = newRow(allocationRow, isOp: false); byPhase[allocationRow] = ai }
            if backward { rows[ai].backwardNanos &+= da } else { rows[ai].forwardNanos &+= da }
        }
        markTime = Profiler.now(); markFlops = f; markAlloc = a
        // the bookkeeping above is charged to nobody: markTime is taken after it
    }
}
