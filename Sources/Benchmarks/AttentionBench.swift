import Autodiff
import ExitStatus
import Foundation
import NN
import Pictures
import TensorCore

/// `vmae bench attention`: one joint block against one divided block on the tokens of a clip of
/// T frames, measured: forward time (inference, nothing kept), forward+backward time (training:
/// activations kept, input and parameter gradients computed), and the tensor memory each adds
/// at its peak. Memory is measured, not computed: `TensorStats.peakBytes` (every tensor the
/// library allocates) minus the live bytes just before the call, after a warm-up call so that
/// parameter and input gradient buffers already exist (they are not "added"). The attention
/// kernels' per-thread scratch (≤ 1 MB per thread) is outside the tensors and not counted.
public enum AttentionBench {
    public struct Row: Codable, Equatable {
        public var attention: String       // "joint" | "divided"
        public var frames: Int             // T in pixels' frames
        public var groups: Int             // T / tubelet: the temporal token count of the formula
        public var spatial_tokens: Int     // Ns
        public var tokens: Int             // N = groups · Ns
        public var pairs: Int              // joint N², divided Ns²·T + T²·Ns (T = groups)
        public var fwd_s: Double           // median
        public var fwdbwd_s: Double        // median
        public var fwd_peak_mb: Double     // tensor memory added at the forward's peak
        public var fwdbwd_peak_mb: Double  // tensor memory added at the forward+backward's peak
    }

    public struct Options {
        public var frames: [Int] = [4, 8, 16]
        public var size = 224
        public var patch = 16
        public var tubelet = 2
        public var dim = 768
        public var heads = 12
        public var mlpRatio = 4.0
        public var batch = 1
        public var reps = 3
        public init() {}
    }

    /// The error in the options (naming the option), or nil.
    public static func problem(_ o: Options) -> String? {
        if o.frames.isEmpty { return "--t: give at least one frame count" }
        if let f = o.frames.first(where: { $0 <= 0 }) { return "--t: frame counts must be positive, got \(f)" }
        for (k, v) in [("--size", o.size), ("--patch", o.patch), ("--tubelet", o.tubelet), ("--dim", o.dim),
                       ("--heads", o.heads), ("--batch", o.batch), ("--reps", o.reps)] where v <= 0 {
            return "\(k): must be positive, got \(v)"
        }
        if !(o.mlpRatio > 0) { return "--mlp-ratio: must be positive, got \(o.mlpRatio)" }
        if o.size % o.patch != 0 { return "--size: \(o.size) is not a multiple of --patch \(o.patch)" }
        if let f = o.frames.first(where: { $0 % o.tubelet != 0 }) { return "--t: \(f) frames is not a multiple of --tubelet \(o.tubelet)" }
        if o.dim % o.heads != 0 { return "--heads: \(o.heads) heads do not divide --dim \(o.dim)" }
        return nil
    }

    static func seconds(_ f: () -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        f()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    /// Peak tensor bytes added while `f` runs, above what was live before it.
    static func peakAdded(_ f: () -> Void) -> Int {
        let live = TensorStats.liveBytes
        TensorStats.resetPeak()
        f()
        return TensorStats.peakBytes - live
    }

    /// Measures both block kinds at every frame count; `progress` sees each row as it is done.
    public static func run(_ o: Options, progress: (Row) -> Void = { _ in }) throws -> [Row] {
        if let p = problem(o) { throw UserError(p) }
        let side = o.size / o.patch, ns = side * side
        var rows: [Row] = []
        for frames in o.frames {
            let g = frames / o.tubelet, n = g * ns
            for kind in ["joint", "divided"] {
                var rng = RNG(seed: 1)
                let block: (Variable, ForwardContext) -> Variable
                let module: Module
                if kind == "joint" {
                    let b = Block(dim: o.dim, heads: o.heads, mlpRatio: o.mlpRatio, qkvBias: true, eps: 1e-6)
                    b.initXavier(&rng)
                    block = { b($0, $1) }
                    module = b
                } else {
                    let b = DividedBlock(dim: o.dim, heads: o.heads, mlpRatio: o.mlpRatio, qkvBias: true, eps: 1e-6, groups: g)
                    b.initXavier(&rng)
                    block = { b($0, $1) }
                    module = b
                }
                let x = Variable(Tensor(uninitialized: [o.batch, n, o.dim]), requiresGrad: true)
                rng.fillNormal(x.value)
                let seed = Tensor(uninitialized: [o.batch, n, o.dim])
                rng.fillUniform(seed, low: -1, high: 1)
                let ctx = ForwardContext(training: false)   // no drop path: the same work every time
                func forward() { _ = Tape.noGrad { block(x, ctx) } }
                func forwardBackward() {
                    module.zeroGrad()
                    x.zeroGrad()
                    block(x, ctx).backward(seed: seed)
                }
                // warm-up: allocates the gradient buffers, fills the buffer pool
                forward()
                forwardBackward()
                let fwdPeak = peakAdded(forward)
                let fbPeak = peakAdded(forwardBackward)
                var tf: [Double] = [], tb: [Double] = []
                for _ in 0..<o.reps {
                    tf.append(seconds(forward))
                    tb.append(seconds(forwardBackward))
                }
                let pairs = TokenCalculator.pairs(groups: g, spatial: ns)
                let row = Row(attention: kind, frames: frames, groups: g, spatial_tokens: ns, tokens: n,
                              pairs: kind == "joint" ? pairs.joint : pairs.divided,
                              fwd_s: median(tf), fwdbwd_s: median(tb),
                              fwd_peak_mb: Double(fwdPeak) / 1_048_576, fwdbwd_peak_mb: Double(fbPeak) / 1_048_576)
                rows.append(row)
                progress(row)
            }
        }
        return rows
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// The printed table: one line per frame count, joint and divided side by side.
    public static func table(_ rows: [Row], _ o: Options) -> String {
        var out: [String] = []
        out.append("one block, dim \(o.dim), \(o.heads) heads, mlp ×\(o.mlpRatio), batch \(o.batch), \(o.size)×\(o.size) px, patch \(o.patch), tubelet \(o.tubelet); \(Threads.count) threads; median of \(o.reps)")
        out.append("pairs: joint N², divided Ns²·T + T²·Ns (T = frames/tubelet, Ns = spatial tokens per group); memory: tensor bytes added at the peak")
        out.append("")
        func pad(_ s: String, _ w: Int) -> String { tokenTableLeftPad(s, w) }
        let head = [pad("frames", 6), pad("T", 4), pad("N", 6),
                    pad("pairs joint", 13), pad("divided", 11), pad("ratio", 7),
                    pad("fwd s joint", 12), pad("divided", 9),
                    pad("fwd+bwd s joint", 16), pad("divided", 9),
                    pad("fwd MB joint", 13), pad("divided", 9),
                    pad("fwd+bwd MB joint", 17), pad("divided", 9)]
        out.append(head.joined(separator: " "))
        var frames: [Int] = []
        for r in rows where !frames.contains(r.frames) { frames.append(r.frames) }
        for f in frames {
            guard let j = rows.first(where: { $0.frames == f && $0.attention == "joint" }),
                  let d = rows.first(where: { $0.frames == f && $0.attention == "divided" }) else { continue }
            let cols = [pad("\(f)", 6), pad("\(j.groups)", 4), pad("\(j.tokens)", 6),
                        pad(TokenCalculator.grouped(j.pairs), 13), pad(TokenCalculator.grouped(d.pairs), 11),
                        pad(String(format: "%.3f", Double(d.pairs) / Double(j.pairs)), 7),
                        pad(String(format: "%.3f", j.fwd_s), 12), pad(String(format: "%.3f", d.fwd_s), 9),
                        pad(String(format: "%.3f", j.fwdbwd_s), 16), pad(String(format: "%.3f", d.fwdbwd_s), 9),
                        pad(String(format: "%.1f", j.fwd_peak_mb), 13), pad(String(format: "%.1f", d.fwd_peak_mb), 9),
                        pad(String(format: "%.1f", j.fwdbwd_peak_mb), 17), pad(String(format: "%.1f", d.fwdbwd_peak_mb), 9)]
            out.append(cols.joined(separator: " "))
        }
        return out.joined(separator: "\n")
    }

    /// The PNG: four panels (forward time, forward+backward time, and the memory each adds)
    /// against frames, two curves each (joint, divided).
    public static func draw(_ rows: [Row], _ o: Options, out: String, width: Int = 1400, height: Int = 900) throws {
        let joint = RGBColor(214, 39, 40), divided = RGBColor(31, 100, 180)
        func series(_ kind: String, _ color: RGBColor, _ y: (Row) -> Double) -> Curves.Series {
            let pts = rows.filter { $0.attention == kind }.sorted { $0.frames < $1.frames }.map { (x: Double($0.frames), y: y($0)) }
            return Curves.Series(name: kind, color: color, points: pts, thickness: 2.2, markers: true)
        }
        func panel(_ title: String, _ yTitle: String, _ y: @escaping (Row) -> Double) -> Curves.Panel {
            Curves.Panel(title: title, xTitle: "frames T (tokens N = T/\(o.tubelet) x \((o.size / o.patch) * (o.size / o.patch)))",
                         yTitle: yTitle, series: [series("joint", joint, y), series("divided", divided, y)])
        }
        var panels = [panel("Forward time", "seconds", { $0.fwd_s }),
                      panel("Forward+backward time", "seconds", { $0.fwdbwd_s }),
                      panel("Forward: memory added", "MB", { $0.fwd_peak_mb }),
                      panel("Forward+backward: memory added", "MB", { $0.fwdbwd_peak_mb })]
        let width = min(max(width, 640), 2000), height = min(max(height, 480), 2000)
        var canvas = Canvas(width: width, height: height, background: Curves.Palette.background)
        let s = width >= 900 && height >= 600 ? 2 : 1
        let headerH = (BitmapFont.cellHeight + 8) * s
        let title = "joint vs divided space-time attention: one block, dim \(o.dim), \(o.heads) heads, \(o.size)px, patch \(o.patch), tubelet \(o.tubelet), batch \(o.batch)"
        canvas.drawText(x: 10 * s, y: 5 * s, title, color: Curves.Palette.ink, scale: s)
        canvas.fillRect(PixelRect(x: 0, y: headerH - 1, width: width, height: 1), Curves.Palette.grid)
        let cellW = width / 2, cellH = (height - headerH) / 2
        let allAxes = panels.map { Curves.axes($0, cellHeight: cellH, scale: s) }
        for i in panels.indices {
            guard let a = allAxes[i] else { continue }
            let labelW = [allAxes[i % 2], allAxes[i % 2 + 2]].compactMap { $0?.yLabelWidth }.max() ?? a.yLabelWidth
            let cell = PixelRect(x: (i % 2) * cellW, y: headerH + (i / 2) * cellH, width: cellW, height: cellH)
            Curves.drawPanel(&panels[i], axes: a, labelWidth: labelW, in: cell, on: &canvas, scale: s)
        }
        try canvas.save(path: out)
    }
}
