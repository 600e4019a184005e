import Foundation

/// The original VideoMAE's `cosine_scheduler` as a pure function of the step: a linear warmup
/// from `warmupStart` to `base` over `warmupSteps` (np.linspace, so the last warmup step is
/// `base`; np.linspace(start, base, 1) is [start], so a one-step warmup is `warmupStart`), then
/// a half cosine from `base` to `final` over the remaining steps.
public struct CosineSchedule: Equatable, Codable {
    public var base: Double
    public var final: Double
    public var totalSteps: Int
    public var warmupSteps: Int
    public var warmupStart: Double

    public init(base: Double, final: Double, totalSteps: Int, warmupSteps: Int = 0, warmupStart: Double = 0) {
        self.base = base
        self.final = final
        self.totalSteps = max(totalSteps, 1)
        self.warmupSteps = min(max(warmupSteps, 0), max(totalSteps, 1))
        self.warmupStart = warmupStart
    }

    public func callAsFunction(_ step: Int) -> Double {
        if step < warmupSteps {
            if warmupSteps == 1 { return warmupStart }
            return warmupStart + (base - warmupStart) * Double(step) / Double(warmupSteps - 1)
        }
        let n = totalSteps - warmupSteps
        if n <= 0 { return final }
        let i = Double(min(step - warmupSteps, n))
        return final + 0.5 * (base - final) * (1 + cos(Double.pi * i / Double(n)))
    }
}
