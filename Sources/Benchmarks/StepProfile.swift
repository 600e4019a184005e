import Autodiff
import Foundation
import TensorCore

/// `vmae bench --profile`: where the time of a pretraining step goes, per op (forward and
/// backward) and per phase outside the ops, averaged over the timed steps, with the step's
/// achieved GFLOP/s (GEMM FLOPs actually issued) against the GEMM peak measured in the same
/// process by `vmae bench ops`' code.
public struct StepProfile: Codable {
    public var steps: Int
    /// mean wall time of the profiled steps, measured around each step outside the profiler
    public var step_s_mean: Double
    public var rows: [OpProfile.Row]
    /// GEMM FLOPs per step, as issued to BLAS (counted, not estimated)
    public var gemm_flop_per_step: Double
    /// best GFLOP/s of `vmae bench ops`' GEMMs, measured just before the steps
    public var gemm_peak_gflop_per_s: Double

    /// Sum of every row per step: should be the step minus the loop around it.
    public var profiled_s: Double { Double(rows.reduce(0) { $0 + $1.totalNanos }) / 1e9 / Double(steps) }
    public var achieved_gflop_per_s: Double { gemm_flop_per_step / step_s_mean / 1e9 }

    /// A table: one line per op and phase, largest first.
    public func table(title: String) -> String {
        let per = 1e6 * Double(steps)  // nanoseconds → ms per step
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
        var lines = [title, pad("op / [phase]", 30) + "   fwd ms    bwd ms  total ms   share     GFLOP  GFLOP/s"]
        for r in rows.sorted(by: { $0.totalNanos > $1.totalNanos }) {
            let total = Double(r.totalNanos) / per
            let gflop = (r.forwardFlops + r.backwardFlops) / Double(steps) / 1e9
            let flopText = gflop > 0 ? String(format: " %9.3f", gflop) : "         -"
            let rate = gflop > 0 && total > 0 ? String(format: " %8.1f", gflop / (total / 1e3)) : "        -"
            lines.append(pad(r.isOp ? r.name : "[\(r.name)]", 30)
                         + String(format: " %8.2f  %8.2f  %8.2f  %5.1f%%", Double(r.forwardNanos) / per,
                                  Double(r.backwardNanos) / per, total, 100 * total / 1e3 / step_s_mean)
                         + flopText + rate)
        }
        lines.append(String(format: "profiled %.1f ms of a %.1f ms step (mean of %d); GEMM %.2f GFLOP/step; achieved %.1f GFLOP/s = %.0f%% of the GEMM peak %.1f GFLOP/s",
                            profiled_s * 1e3, step_s_mean * 1e3, steps, gemm_flop_per_step / 1e9, achieved_gflop_per_s,
                            100 * achieved_gflop_per_s / max(gemm_peak_gflop_per_s, 1e-9), gemm_peak_gflop_per_s))
        return lines.joined(separator: "\n")
    }
}
