import Autodiff
import Foundation
import TensorCore

/// `vmae bench ops`: GEMM GFLOP/s at the model's shapes and GB/s of the elementwise kernels.
public enum OpsBench {
    public struct Row: Codable {
        public let op: String
        public let shape: String
        public let median_ms: Double
        public let rate: Double
        public let unit: String
    }

    static func median(_ f: () -> Void, reps: Int) -> Double {
        f()  // warm up
        var ts: [Double] = []
        for _ in 0..<reps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            f()
            ts.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        ts.sort()
        return ts[ts.count / 2]
    }

    public static func run(reps: Int = 9) -> [Row] {
        gemmRows(reps: reps) + bf16GemmRows(reps: reps) + elementwiseRows(reps: reps)
    }

    /// (M, N, K) for C[M,N] = A[M,K]·B[K,N]: vit-small/base shapes of a pretraining step.
    static let gemmShapes: [(Int, Int, Int, String)] = [
        (1568, 1536, 384, "MLP up, 1568 tok, vit-small"),
        (1568, 384, 1536, "MLP down, 1568 tok, vit-small"),
        (160, 3072, 768, "MLP up, 160 tok, vit-base"),
        (160, 768, 3072, "MLP down, 160 tok, vit-base"),
        (1568, 1152, 384, "qkv, 1568 tok, vit-small"),
        (1024, 1024, 1024, "square"),
    ]

    /// GEMM GFLOP/s at the vit-small/base shapes of a pretraining step.
    public static func gemmRows(reps: Int) -> [Row] {
        timedGemms(reps: reps, label: "gemm") { m, n, k, a, b, c in BLAS.gemm(transB: true, m: m, n: n, k: k, a, b, c) }
    }

    /// The same shapes through the bf16 GEMM (conversion of both operands included), when the
    /// CPU has bf16 instructions; empty otherwise.
    public static func bf16GemmRows(reps: Int) -> [Row] {
        guard CPUFeatures.bf16Instructions(CPUFeatures.flags) != nil else { return [] }
        return timedBF16Gemms(reps: reps, kernel: .vmae, label: "gemm bf16")
            + timedBF16Gemms(reps: reps, kernel: .onednn, label: "gemm bf16 onednn")
    }

    private static func timedBF16Gemms(reps: Int, kernel: BF16Kernel, label: String) -> [Row] {
        timedGemms(reps: reps, label: label) { m, n, k, a, b, c in BLAS.gemmBF16(transB: true, m: m, n: n, k: k, a, b, c, kernel: kernel) }
    }

    /// Times `gemm` (C[m, n] = A[m, k] · B[n, k]ᵀ) at each of `gemmShapes` on uniform random operands.
    private static func timedGemms(reps: Int, label: String,
                                   _ gemm: (Int, Int, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                            UnsafeMutablePointer<Float>) -> Void) -> [Row] {
        var rows: [Row] = []
        var rng = RNG(seed: 1)
        for (m, n, k, what) in gemmShapes {
            let a = Tensor(uninitialized: [m, k]), b = Tensor(uninitialized: [n, k]), c = Tensor(uninitialized: [m, n])
            rng.fillUniform(a, low: -1, high: 1); rng.fillUniform(b, low: -1, high: 1)
            let t = median({ gemm(m, n, k, a.data, b.data, c.data) }, reps: reps)
            rows.append(Row(op: "\(label) (\(what))", shape: "\(m)x\(k) · \(k)x\(n)", median_ms: t * 1e3,
                            rate: 2.0 * Double(m * n * k) / t / 1e9, unit: "GFLOP/s"))
        }
        return rows
    }

    /// The GEMM peak: the best rate of `gemmRows` (what the profile compares a step against), or
    /// with `.bf16` of the bf16 GEMM (`BLAS.bf16Kernel`) at the same shapes, as a bf16 step runs.
    public static func gemmPeak(reps: Int = 5, precision: Precision = .fp32) -> Double {
        let rows = precision == .bf16
            ? timedBF16Gemms(reps: reps, kernel: BLAS.bf16Kernel, label: "gemm bf16")
            : gemmRows(reps: reps)
        return rows.map(\.rate).max() ?? 0
    }

    /// Elementwise kernels after the GEMMs.
    static func elementwiseRows(reps: Int) -> [Row] {
        var rows: [Row] = []
        var rng = RNG(seed: 1)
        // Elementwise: bytes moved = read input + write output (+ params, negligible).
        let rowsN = 1568 * 2, d = 384
        let x = Variable(Tensor(uninitialized: [rowsN, d])); rng.fillNormal(x.value)
        let w = Variable(Tensor(filled: 1, shape: [d])), bb = Variable(Tensor(zeros: [d]))
        let bytes = Double(2 * rowsN * d * 4)
        let ln = median({ _ = Tape.noGrad { layerNorm(x, weight: w, bias: bb, eps: 1e-6) } }, reps: reps)
        rows.append(Row(op: "layernorm fwd", shape: "\(rowsN)x\(d)", median_ms: ln * 1e3, rate: bytes / ln / 1e9, unit: "GB/s"))
        let h = Variable(Tensor(uninitialized: [rowsN, 4 * d])); rng.fillNormal(h.value)
        let ge = median({ _ = Tape.noGrad { gelu(h) } }, reps: reps)
        rows.append(Row(op: "gelu fwd", shape: "\(rowsN)x\(4 * d)", median_ms: ge * 1e3, rate: 4 * bytes / ge / 1e9, unit: "GB/s"))
        let s = Variable(Tensor(uninitialized: [6 * 160, 1568])); rng.fillNormal(s.value)
        let sm = median({ _ = Tape.noGrad { softmax(s) } }, reps: reps)
        rows.append(Row(op: "softmax fwd", shape: "\(6 * 160)x1568", median_ms: sm * 1e3,
                        rate: Double(2 * s.count * 4) / sm / 1e9, unit: "GB/s"))
        let big = Tensor(uninitialized: [1 << 24]), dst = Tensor(uninitialized: [1 << 24])
        let cp = median({ dst.data.update(from: big.data, count: big.count) }, reps: reps)
        rows.append(Row(op: "memcpy (bandwidth reference)", shape: "\(1 << 24)", median_ms: cp * 1e3,
                        rate: Double(2 * big.count * 4) / cp / 1e9, unit: "GB/s"))
        return rows
    }
}
