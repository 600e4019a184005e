import Foundation

// Axis ticks and their labels: nice 1-2-5 steps, labels with as many decimals as the step needs.
extension Curves {
    /// The 1, 2 or 5 × 10^k step nearest `raw` (on a log scale).
    public static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let e = (log10(raw)).rounded(.down)
        let p = pow(10, e)
        let f = raw / p
        let m: Double = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10
        return m * p
    }

    /// Ticks at multiples of a nice step within `lo…hi`, about `count` of them (at least 2 when
    /// the range allows). `integer` keeps the step ≥ 1.
    public static func niceTicks(lo: Double, hi: Double, count: Int, integer: Bool = false) -> (ticks: [Double], step: Double) {
        var step = niceStep((hi - lo) / Double(max(1, count)))
        if integer { step = max(step, 1) }
        let first = (lo / step - 1e-9).rounded(.up)
        var ticks: [Double] = []
        var k = first
        while k * step <= hi + step * 1e-9 && ticks.count < 1000 {
            let v = k * step
            ticks.append(abs(v) < step * 1e-9 ? 0 : v)
            k += 1
        }
        return (ticks, step)
    }

    /// Tick labels for ticks `step` apart: fixed-point with as many decimals as the step
    /// needs, or `3e-4`-style when the values are tiny (< 0.01) or huge (≥ 10^6).
    public static func tickLabels(_ ticks: [Double], step: Double) -> [String] {
        let maxAbs = ticks.map { abs($0) }.max() ?? 0
        let scientific = maxAbs > 0 && (maxAbs < 1e-2 || maxAbs >= 1e6)
        let stepExp = Int((log10(step) + 1e-9).rounded(.down))
        return ticks.map { v in
            if v == 0 { return "0" }
            if !v.isFinite { return "" }
            if scientific {
                var e = Int((log10(abs(v)) + 1e-9).rounded(.down))
                var digits = max(0, e - stepExp)
                var m = v / pow(10, Double(e))
                if abs((m * pow(10, Double(digits))).rounded()) >= 10 * pow(10, Double(digits)) {
                    e += 1
                    m /= 10
                    digits = max(0, e - stepExp)
                }
                var ms = String(format: "%.\(digits)f", m)
                if ms.contains(".") {
                    while ms.hasSuffix("0") { ms.removeLast() }
                    if ms.hasSuffix(".") { ms.removeLast() }
                }
                return "\(ms)e\(e)"
            }
            let decimals = max(0, -stepExp)
            return String(format: "%.\(decimals)f", v)
        }
    }

    /// A count (step, epoch) as an integer when it is one of reasonable size.
    static func whole(_ v: Double) -> String {
        abs(v) < 1e15 && v == v.rounded() ? String(Int(v)) : String(format: "%g", v)
    }

    /// A short number for the header line.
    static func short(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) < 1e-2 || abs(v) >= 1e6 { return String(format: "%.2e", v) }
        if abs(v) >= 100 { return String(format: "%.1f", v) }
        return String(format: "%.4f", v)
    }
}
