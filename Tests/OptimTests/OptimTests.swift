import Autodiff
import Optim
import TensorCore
import XCTest

/// AdamW, gradient clipping and the schedules against values computed outside Swift, from
/// PyTorch's and the original VideoMAE's formulas (the formulas are in the comments, so the
/// numbers can be recomputed with numpy).
final class OptimTests: XCTestCase {
    func close(_ got: [Float], _ want: [Double], rel: Double = 2e-5, abs: Double = 1e-6, _ what: String,
               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what, file: file, line: line)
        for (i, (g, w)) in zip(got, want).enumerated() {
            XCTAssertLessThanOrEqual(Swift.abs(Double(g) - w), max(abs, rel * Swift.abs(w)),
                                     "\(what)[\(i)]: got \(g), want \(w)", file: file, line: line)
        }
    }

    func values(_ t: Tensor) -> [Float] { (0..<t.count).map { t[flat: $0] } }

    /// Three steps of torch.optim.AdamW (single-tensor path), with a different lr and weight
    /// decay each step (as the schedules feed them), on a 2×2 weight (decays) and a 1-D bias
    /// (no decay). Expected values from numpy with float64:
    ///   p ← p·(1 − lr·wd)                       (decaying parameters only)
    ///   m ← m + (g − m)·(1 − β1);   v ← β2·v + (1 − β2)·g²
    ///   p ← p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + eps)
    /// β1 0.9, β2 0.95, eps 1e-8; (lr, wd) = (0.1, 0.1), (0.05, 0.2), (0.02, 0.3).
    func testAdamWMatchesPyTorchFormulaForThreeSteps() {
        let w = Variable(Tensor(shape: [2, 2], values: [0.5, -1.0, 1.5, 2.0]), requiresGrad: true)
        let b = Variable(Tensor(shape: [2], values: [0.1, -0.2]), requiresGrad: true)
        let opt = AdamW([("layer.weight", w), ("layer.bias", b)], beta1: 0.9, beta2: 0.95, eps: 1e-8)
        XCTAssertEqual(opt.slots.map(\.decay), [true, false])
        let gw: [[Float]] = [[0.1, -0.2, 0.3, 0.4], [-0.5, 0.25, 0.0, 1.0], [2.0, -1.0, 0.5, -0.125]]
        let gb: [[Float]] = [[1.0, -0.5], [0.5, 0.5], [-0.25, 2.0]]
        let sched: [(Double, Double)] = [(0.1, 0.1), (0.05, 0.2), (0.02, 0.3)]
        let want: [(w: [Double], mw: [Double], vw: [Double], b: [Double], mb: [Double], vb: [Double])] = [
            ([0.395000009999999, -0.8900000049999998, 1.3850000033333332, 1.8800000024999999],
             [0.01, -0.02, 0.03, 0.04], [0.0005, 0.002, 0.0045, 0.008],
             [9.999999855958563e-10, -0.10000000199999998], [0.1, -0.05], [0.05, 0.0125]),
            ([0.42062665245744074, -0.8892142608332374, 1.3372176175799595, 1.8146364215138058],
             [-0.041, 0.007, 0.027, 0.136], [0.012975, 0.005025, 0.004275, 0.0576],
             [-0.04696465181598619, -0.10263158089473683], [0.14, 0.005], [0.06, 0.024375]),
            ([0.4082375845989857, -0.8727203195139046, 1.313102654462186, 1.7907467624031972],
             [0.1631, -0.0937, 0.0743, 0.1099], [0.21232625, 0.05477375, 0.01656125, 0.05550125],
             [-0.058444928522914996, -0.11469713620881777], [0.101, 0.2045], [0.060125, 0.22315625]),
        ]
        for t in 0..<3 {
            w.setGrad(Tensor(shape: [2, 2], values: gw[t]))
            b.setGrad(Tensor(shape: [2], values: gb[t]))
            opt.step(lr: sched[t].0, weightDecay: sched[t].1)
            XCTAssertEqual(opt.stepCount, t + 1)
            close(values(w.value), want[t].w, "step \(t + 1) weight")
            close(values(opt.slots[0].expAvg), want[t].mw, "step \(t + 1) exp_avg(weight)")
            close(values(opt.slots[0].expAvgSq), want[t].vw, "step \(t + 1) exp_avg_sq(weight)")
            close(values(b.value), want[t].b, "step \(t + 1) bias")
            close(values(opt.slots[1].expAvg), want[t].mb, "step \(t + 1) exp_avg(bias)")
            close(values(opt.slots[1].expAvgSq), want[t].vb, "step \(t + 1) exp_avg_sq(bias)")
        }
    }

    /// The eight-lane update over a large tensor (split over the cores, chunks not a multiple of
    /// 8, so the vector body and the scalar tail both run) equals the scalar float formula bit
    /// for bit, for three steps.
    func testVectorizedUpdateEqualsTheScalarFormulaBitForBit() {
        let n = 70_003
        var rng = RNG(seed: 9)
        let p0 = (0..<n).map { _ in rng.uniform() * 2 - 1 }
        let w = Variable(Tensor(shape: [n], values: p0), requiresGrad: true)
        let opt = AdamW([("big.weight", w)], beta1: 0.9, beta2: 0.95, eps: 1e-8, noDecay: { _, _ in false })
        var p = p0, m = [Float](repeating: 0, count: n), v = m
        let (b1, b2, eps): (Float, Float, Float) = (0.9, 0.95, 1e-8)
        for t in 1...3 {
            let g = (0..<n).map { _ in rng.uniform() - 0.5 }
            w.setGrad(Tensor(shape: [n], values: g))
            let lr = 0.01 * Double(t), wd = 0.05
            opt.step(lr: lr, weightDecay: wd)
            // the bias corrections from the float betas, as AdamW.step computes them
            let decay = Float(1 - lr * wd), stepSize = Float(lr / (1 - pow(Double(b1), Double(t))))
            let inv = Float(1 / (1 - pow(Double(b2), Double(t))).squareRoot())
            for i in 0..<n {
                m[i] = m[i] + (1 - b1) * (g[i] - m[i])
                v[i] = v[i] * b2 + (1 - b2) * g[i] * g[i]
                p[i] = p[i] * decay - stepSize * m[i] / (v[i].squareRoot() * inv + eps)
            }
            let got = values(w.value)
            let firstDiff = (0..<n).first { got[$0].bitPattern != p[$0].bitPattern }
            XCTAssertNil(firstDiff, "step \(t): element \(firstDiff ?? -1) got \(got[firstDiff ?? 0]) want \(p[firstDiff ?? 0])")
            XCTAssertEqual(values(opt.slots[0].expAvg), m, "step \(t) exp_avg")
            XCTAssertEqual(values(opt.slots[0].expAvgSq), v, "step \(t) exp_avg_sq")
        }
    }

    /// Weight decay is decoupled and skipped for 1-D tensors, biases and mask_token: with a zero
    /// gradient, m = v = 0 and the update is p·(1 − lr·wd) exactly for decaying tensors, and
    /// nothing for the others.
    func testWeightDecayOnlyWhereTheDesignSays() {
        let names = ["blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc1.bias", "norm.weight", "mask_token", "head.weight"]
        let shapes = [[2, 3], [2], [3], [1, 1, 3], [1, 3]]
        let params = zip(names, shapes).map { n, s in (n, Variable(Tensor(filled: 2, shape: s), requiresGrad: true)) }
        let frozen = Variable(Tensor(filled: 2, shape: [2, 2]), requiresGrad: false)
        let opt = AdamW(params + [("frozen.weight", frozen)])
        XCTAssertEqual(opt.slots.map(\.name), names, "parameters without requiresGrad get no slot")
        XCTAssertEqual(opt.slots.map(\.decay), [true, false, false, false, true])
        for (_, p) in params { p.setGrad(Tensor(zeros: p.shape)) }
        opt.step(lr: 0.5, weightDecay: 0.1)
        for (i, (n, p)) in params.enumerated() {
            let want: Float = opt.slots[i].decay ? 2 * (1 - 0.5 * 0.1) : 2
            XCTAssertEqual(values(p.value), [Float](repeating: want, count: p.count), n)
        }
        XCTAssertEqual(values(frozen.value), [2, 2, 2, 2])
        // a parameter with no gradient at all is left alone, moments too
        let lone = Variable(Tensor(filled: 1, shape: [2, 2]), requiresGrad: true)
        let opt2 = AdamW([("x.weight", lone)])
        opt2.step(lr: 0.5, weightDecay: 0.1)
        XCTAssertEqual(values(lone.value), [1, 1, 1, 1])
    }

    /// torch.nn.utils.clip_grad_norm_: total norm √Σg², coefficient max/(norm + 1e-6), applied
    /// only when below 1; the norm before clipping is returned.
    ///   g = [3, 4] and [[12]]: norm 13; max 6.5 → coef 6.5/(13 + 1e-6) = 0.49999996153846454
    func testClipGradNorm() {
        let a = Variable(Tensor(shape: [2], values: [0, 0]), requiresGrad: true)
        let b = Variable(Tensor(shape: [1, 1], values: [0]), requiresGrad: true)
        let c = Variable(Tensor(shape: [3], values: [0, 0, 0]), requiresGrad: true)  // no gradient
        a.setGrad(Tensor(shape: [2], values: [3, 4]))
        b.setGrad(Tensor(shape: [1, 1], values: [12]))
        XCTAssertEqual(globalGradNorm([a, b, c]), 13, accuracy: 1e-9)
        let n = clipGradNorm([a, b, c], maxNorm: 6.5)
        XCTAssertEqual(n, 13, accuracy: 1e-9)
        close(values(a.grad!), [1.4999998846153937, 1.9999998461538582], rel: 1e-6, "clipped a")
        close(values(b.grad!), [5.999999538461575], rel: 1e-6, "clipped b")
        XCTAssertNil(c.grad)
        // below the limit nothing changes
        let n2 = clipGradNorm([a, b], maxNorm: 100)
        XCTAssertEqual(n2, 6.5, accuracy: 1e-5)
        close(values(a.grad!), [1.4999998846153937, 1.9999998461538582], rel: 1e-6, "unclipped a")
    }

    /// The original VideoMAE's utils.cosine_scheduler:
    ///   warmup = np.linspace(start_warmup_value, base, warmup_iters)
    ///   iters = np.arange(epochs·niter_per_ep − warmup_iters)
    ///   rest = final + 0.5·(base − final)·(1 + cos(π·i / len(iters)))   for i in iters
    ///   schedule = concat(warmup, rest)
    /// cosine_scheduler(1e-3, 1e-5, epochs=2, niter_per_ep=5, warmup_epochs=1):
    func testCosineScheduleMatchesOriginal() {
        let s = CosineSchedule(base: 1e-3, final: 1e-5, totalSteps: 10, warmupSteps: 5)
        let want = [0.0, 0.00025, 0.0005, 0.00075, 0.001,
                    0.001, 0.000905463412215599, 0.000657963412215599, 0.0003520365877844011, 0.00010453658778440107]
        for (i, w) in want.enumerated() { XCTAssertEqual(s(i), w, accuracy: 1e-15, "lr step \(i)") }
        // after the end it stays on the last cosine point's path, never below final
        XCTAssertGreaterThanOrEqual(s(10), 1e-5 - 1e-15)

        // cosine_scheduler(1.5e-4, 1e-5, epochs=10, niter_per_ep=4, warmup_epochs=1, warmup_steps=3)
        let s2 = CosineSchedule(base: 1.5e-4, final: 1e-5, totalSteps: 40, warmupSteps: 3)
        let want2: [Int: Double] = [0: 0.0, 1: 7.5e-05, 2: 0.00015, 3: 0.00015, 4: 0.00014974782419797684,
                                    20: 8.88912473822815e-05, 39: 1.0252175802023144e-05]
        for (i, w) in want2 { XCTAssertEqual(s2(i), w, accuracy: 1e-17, "lr step \(i)") }
    }

    /// np.linspace(0, base, 1) is [0]: a one-step warmup starts at start_warmup_value.
    ///   cosine_scheduler(1e-3, 1e-5, epochs=1, niter_per_ep=4, warmup_epochs=1, warmup_steps=1)
    ///   = [0.0, 0.001, 0.0007525, 0.00025750000000000013]
    func testOneStepWarmupStartsAtTheWarmupStart() {
        let s = CosineSchedule(base: 1e-3, final: 1e-5, totalSteps: 4, warmupSteps: 1)
        let want = [0.0, 0.001, 0.0007525, 0.00025750000000000013]
        for (i, w) in want.enumerated() { XCTAssertEqual(s(i), w, accuracy: 1e-15, "lr step \(i)") }
    }

    /// The weight-decay schedule: cosine_scheduler(weight_decay, weight_decay_end, epochs,
    /// niter_per_ep) without warmup; here (0.05 → 0.2, 2 epochs × 5 steps), rising.
    func testWeightDecaySchedule() {
        let s = CosineSchedule(base: 0.05, final: 0.2, totalSteps: 10)
        let want = [0.05, 0.053670761277863466, 0.06432372542187892, 0.08091610607806451, 0.10182372542187894,
                    0.125, 0.14817627457812105, 0.16908389392193549, 0.18567627457812105, 0.19632923872213653]
        for (i, w) in want.enumerated() { XCTAssertEqual(s(i), w, accuracy: 1e-15, "wd step \(i)") }
        // weight_decay_end unset → constant
        let flat = CosineSchedule(base: 0.05, final: 0.05, totalSteps: 10)
        for i in 0..<12 { XCTAssertEqual(flat(i), 0.05, accuracy: 1e-17) }
    }
}
