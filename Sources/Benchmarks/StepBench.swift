import Autodiff
import ExitStatus
import Foundation
import NN
import Optim
import TensorCore
import VideoMAE

/// `vmae bench`: full pretraining steps (masking, forward, backward, AdamW) on random input,
/// timed the way the peer script (../shared/peer/torch_step.py) times PyTorch.
public enum StepBench {
    public struct Result: Codable {
        public var system = "vmae"
        public var preset: String
        public var frames: Int
        public var size: Int
        public var batch: Int
        public var tokens: Int
        public var visible: Int
        public var params: Int
        public var threads: Int
        public var step_s_median: Double
        public var step_s_min: Double
        public var clips_per_s: Double
        public var maxrss_mb: Double
        public var gflop_per_step: Double
        public var gflop_per_s: Double
        public var precision = "fp32"
        /// VideoMAE V2 running-cell decoder masking (0 = off) and the tokens the decoder reconstructs
        public var decoder_ratio = 0.0
        public var decoded = 0
        /// the fp32 GEMM library (`GEMMBackend`, resolved)
        public var sgemm = BLAS.backend.rawValue
        /// the bf16 GEMM kernel (`BF16Kernel`) when `precision` is bf16, else nil (not in the JSON)
        public var bf16_gemm: String? = nil
    }

    /// Multiply-adds ×2 of one forward pass; a training step is about 3× that (backward = 2×).
    /// `decoded`: the mask tokens the decoder gets (all masked tokens unless decoder masking).
    public static func forwardFlops(_ c: ModelConfig, batch: Int, visible: Int, decoded: Int? = nil) -> Double {
        let nv = Double(visible), nm = Double(decoded ?? (c.tokens - visible)), n = nv + nm
        func blocks(_ t: Double, _ d: Double, _ depth: Int) -> Double {
            let h = Double(Int(d * c.mlp_ratio))
            return Double(depth) * (2 * t * (3 * d * d + d * d + 2 * d * h) + 4 * t * t * d)
        }
        let d = Double(c.encoder_embed_dim), dd = Double(c.decoder_embed_dim), tpp = Double(c.tubeletPixels)
        let enc = 2 * nv * d * tpp + blocks(nv, d, c.encoder_depth) + 2 * nv * d * dd
        let dec = blocks(n, dd, c.decoder_depth) + 2 * nm * dd * tpp
        return Double(batch) * (enc + dec)
    }

    public static func run(preset: String, frames: Int, size: Int, batch: Int, steps: Int, warmup: Int = 2,
                           ratio: Double = 0.9) throws -> Result {
        try run(preset: preset, frames: frames, size: size, batch: batch, steps: steps, warmup: warmup,
                ratio: ratio, profile: false).result
    }

    /// The timed steps with the GEMMs (linear layers and attention) in `precision` (restored afterwards).
    public static func run(preset: String, frames: Int, size: Int, batch: Int, steps: Int, warmup: Int = 2,
                           ratio: Double = 0.9, profile: Bool, precision: Precision, decoderRatio: Double = 0) throws -> (result: Result, profile: StepProfile?) {
        try withPrecision(precision, refusal: "--precision") {
            try run(preset: preset, frames: frames, size: size, batch: batch, steps: steps, warmup: warmup,
                    ratio: ratio, profile: profile, decoderRatio: decoderRatio)
        }
    }

    /// `body`'s steps with the GEMMs (linear layers and attention) in `precision` (restored afterwards), the
    /// result marked with it; a CPU that cannot is refused with one line starting `refusal`.
    static func withPrecision(_ precision: Precision, refusal: String,
                              _ body: () throws -> (result: Result, profile: StepProfile?)) throws -> (result: Result, profile: StepProfile?) {
        let was = BLAS.precision
        if let why = BLAS.setPrecision(precision) { throw UserError("\(refusal) \(precision.rawValue): \(why)") }
        defer { _ = BLAS.setPrecision(was) }
        var r = try body()
        r.result.precision = precision.rawValue
        r.result.bf16_gemm = precision == .bf16 ? BLAS.bf16Kernel.rawValue : nil
        return r
    }

    /// The timed steps, and with `profile` the per-op profile of them (the GEMM peak is measured
    /// first, in this process, with `OpsBench.gemmPeak`).
    public static func run(preset: String, frames: Int, size: Int, batch: Int, steps: Int, warmup: Int = 2,
                           ratio: Double = 0.9, profile: Bool, decoderRatio: Double = 0) throws -> (result: Result, profile: StepProfile?) {
        guard var c = ModelConfig.preset(preset) else { throw UserError("--preset: unknown preset \"\(preset)\"") }
        c.num_frames = frames
        c.img_size = size
        return try run(model: c, label: preset, batch: batch, steps: steps, warmup: warmup, ratio: ratio,
                       profile: profile, decoderRatio: decoderRatio)
    }

    /// The timed steps of any model shape (`vmae bench step --config`: a run config's model,
    /// frames, size, batch and mask); `label` names it in the result's `preset` field.
    public static func run(model c: ModelConfig, label: String, batch: Int, steps: Int, warmup: Int = 2,
                           ratio: Double = 0.9, maskType: MaskType = .tube, profile: Bool,
                           decoderRatio: Double = 0) throws -> (result: Result, profile: StepProfile?) {
        let preset = label, frames = c.num_frames, size = c.img_size
        if let p = c.problems(prefix: "--").first { throw UserError(p) }
        let model = PretrainModel(c)
        model.initialize(seed: 0)
        let opt = AdamW(model.namedParameters(), beta1: 0.9, beta2: 0.95)
        let maskGen = MaskGenerator(maskType, ratio: ratio, config: c)
        var decoderMask: RunningCellMask? = nil
        if decoderRatio != 0 {
            if let why = RunningCellMask.problem(ratio: decoderRatio, rows: size / c.patch_size, cols: size / c.patch_size) {
                throw UserError("--decoder-ratio: \(why)")
            }
            decoderMask = RunningCellMask(ratio: decoderRatio, config: c)
        }
        var rng = RNG(seed: 0)
        let x = Tensor(uninitialized: [batch, frames, c.in_chans, size, size])
        rng.fillNormal(x)
        let peak = profile ? OpsBench.gemmPeak(precision: BLAS.precision) : 0
        var times: [Double] = []
        var profiled: [OpProfile.Row] = []
        for i in 0..<(warmup + steps) {
            let timed = i >= warmup
            if profile && timed && i == warmup { OpProfile.start() }
            let t0 = DispatchTime.now().uptimeNanoseconds
            if profile && timed { OpProfile.phase("between steps") }
            let encoderMask = maskGen.batch(count: batch, rng: &rng)
            let mask = decoderMask.map { $0.apply(to: encoderMask, rng: &rng) } ?? encoderMask
            OpProfile.phase("mask")
            model.zeroGrad()
            OpProfile.phase("zero grads")
            let loss = model.loss(x, mask: mask, ForwardContext(training: true, rng: rng))
            OpProfile.phase("forward, after the last op")
            loss.backward()
            OpProfile.phase("backward, after the last op")
            opt.step(lr: 1.5e-4, weightDecay: 0.05)
            OpProfile.phase("AdamW")
            if timed { times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
        }
        var stepProfile: StepProfile? = nil
        if profile {
            let flops = Profiler.flops
            profiled = OpProfile.stop().filter { $0.name != "between steps" }  // outside the timed steps
            stepProfile = StepProfile(steps: steps, step_s_mean: times.reduce(0, +) / Double(steps), rows: profiled,
                                      gemm_flop_per_step: flops / Double(steps), gemm_peak_gflop_per_s: peak)
        }
        times.sort()
        let med = times[times.count / 2]
        let visible = c.tokens - maskGen.maskedCount
        let decoded = decoderMask?.keptCount ?? maskGen.maskedCount
        let gflop = 3 * forwardFlops(c, batch: batch, visible: visible, decoded: decoded) / 1e9
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let result = Result(preset: preset, frames: frames, size: size, batch: batch, tokens: c.tokens, visible: visible,
                            params: model.parameterCount, threads: Threads.count, step_s_median: med, step_s_min: times[0],
                            clips_per_s: Double(batch) / med, maxrss_mb: Double(usage.ru_maxrss) / 1024,
                            gflop_per_step: gflop, gflop_per_s: gflop / med)
        var r = result
        r.decoder_ratio = decoderRatio
        r.decoded = decoded
        return (r, stepProfile)
    }
}
