import CDNNL
import CKernels
import Dispatch
import Foundation

/// bfloat16: the top 16 bits of a float32 (sign, 8 exponent bits, 7 stored significand bits,
/// 8 bits of precision: unit roundoff u = 2⁻⁸). Used only as GEMM operands in mixed precision;
/// every stored tensor stays float32.
public enum BF16 {
    /// float32 → bf16, round to nearest, ties to even; NaN stays NaN (quieted), ±Inf stays ±Inf,
    /// finite values past the largest bf16 round to ±Inf (as PyTorch's conversion).
    @inline(__always)
    public static func round(_ x: Float) -> UInt16 {
        let b = x.bitPattern
        if b & 0x7fff_ffff > 0x7f80_0000 { return UInt16(truncatingIfNeeded: b >> 16) | 0x0040 }
        return UInt16(truncatingIfNeeded: (b &+ 0x7fff &+ ((b >> 16) & 1)) >> 16)
    }

    @inline(__always)
    public static func float(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }

    /// dst[i] = round(src[i]) for i in 0..<n, 16 lanes at a time, over the cores.
    public static func convert(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count n: Int) {
        parallelFor(n, minChunk: 1 << 16) { r in
            var i = r.lowerBound
            let end = r.upperBound
            let raw = UnsafeRawPointer(src), out = UnsafeMutableRawPointer(dst)
            while i + 16 <= end {
                let b = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<UInt32>.self)
                let rounded = (b &+ 0x7fff &+ ((b &>> 16) & 1)) &>> 16
                let nan = (b & 0x7fff_ffff) .> 0x7f80_0000
                let v = rounded.replacing(with: (b &>> 16) | 0x40, where: nan)
                out.storeBytes(of: SIMD16<UInt16>(truncatingIfNeeded: v), toByteOffset: 2 * i, as: SIMD16<UInt16>.self)
                i += 16
            }
            while i < end { dst[i] = round(src[i]); i += 1 }
        }
    }

    /// The nearest bf16 found by comparing the two neighbours in double (ties to the even one):
    /// the validator of `round`, written without its bit trick.
    public static func roundReference(_ x: Float) -> UInt16 {
        if x.isNaN { return UInt16(truncatingIfNeeded: x.bitPattern >> 16) | 0x0040 }
        if x.isInfinite { return x < 0 ? 0xff80 : 0x7f80 }
        let lo = UInt16(truncatingIfNeeded: x.bitPattern >> 16)          // toward zero
        let hi = lo &+ 1                                                // away from zero
        func value(_ h: UInt16) -> Double {
            // one step past the largest finite bf16 is 2^128 (which is Inf as a bf16)
            if h & 0x7fff == 0x7f80 { return (h & 0x8000 != 0 ? -1 : 1) * 0x1p128 }
            return Double(float(h))
        }
        let dl = abs(Double(x) - value(lo)), dh = abs(Double(x) - value(hi))
        if dl < dh { return lo }
        if dh < dl { return hi }
        return lo & 1 == 0 ? lo : hi
    }
}

/// Storage for bf16 GEMM operands, from the tensor buffer pool.
final class BF16Buffer {
    let data: UnsafeMutablePointer<UInt16>
    let bytes: Int
    init(count: Int) {
        bytes = (max(count, 1) * 2 + 63) / 64 * 64
        data = BufferPool.take(bytes).bindMemory(to: UInt16.self, capacity: bytes / 2)
    }
    convenience init(converting src: UnsafePointer<Float>, count: Int) {
        self.init(count: count)
        BF16.convert(src, data, count: count)
    }
    deinit { BufferPool.give(UnsafeMutableRawPointer(data), bytes) }
}

/// GEMM precision. `fp32`: the fp32 backend. `bf16`: operands rounded to bf16, products
/// accumulated in fp32 (`BLAS.gemmBF16`, AVX512-BF16 instructions).
public enum Precision: String, CaseIterable, Sendable {
    case fp32, bf16
}

/// What the CPU reports in /proc/cpuinfo's flags.
public enum CPUFeatures {
    public static let flags: Set<String> = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }()

    /// The bf16 GEMM instructions among `flags`, or nil when there are none:
    /// "amx_bf16" (AMX tiles) before "avx512_bf16" (vdpbf16ps).
    public static func bf16Instructions(_ flags: Set<String>) -> String? {
        if flags.contains("amx_bf16") { return "amx_bf16" }
        if flags.contains("avx512_bf16") { return "avx512_bf16" }
        return nil
    }

    /// Why bf16 cannot run on a CPU with these flags, or nil when it can.
    public static func bf16Refusal(_ flags: Set<String>) -> String? {
        bf16Instructions(flags) == nil
            ? "bf16 needs a CPU with avx512_bf16 or amx_bf16 instructions; this one reports neither in /proc/cpuinfo (use \"fp32\")"
            : nil
    }
}

extension BLAS {
    /// The precision of the GEMMs that opt into mixed precision (`gemmMixed` and `gemmMixedOnThisThread`: attention's products and the linear layers'
    /// forward and both backward products). Set once per run with `setPrecision`.
    nonisolated(unsafe) public private(set) static var precision: Precision = .fp32

    /// Switches the mixed-precision GEMMs; throws nothing, returns the reason when the CPU cannot.
    public static func setPrecision(_ p: Precision) -> String? {
        if p == .bf16, let why = CPUFeatures.bf16Refusal(CPUFeatures.flags) { return why }
        if p == .bf16 && bf16Kernel == .vmae && !CPUFeatures.flags.contains("avx512_bf16") {
            return "VMAE_BF16_GEMM=vmae needs avx512_bf16 instructions, which this CPU does not report (unset it)"
        }
        precision = p
        return nil
    }

    /// `gemm` (compact form) in `BLAS.precision`.
    @inline(__always)
    public static func gemmMixed(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                                 alpha: Float = 1, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                 beta: Float = 0, _ c: UnsafeMutablePointer<Float>) {
        if precision == .bf16 {
            gemmBF16(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a, b, beta: beta, c)
        } else {
            gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a, b, beta: beta, c)
        }
    }

    /// The bf16 GEMM kernel of this process: `VMAE_BF16_GEMM` (`vmae` or `onednn`), or when unset
    /// `vmae` on a CPU with avx512_bf16 (vdpbf16ps) and `onednn` on one with AMX tiles only.
    nonisolated(unsafe) public static var bf16Kernel: BF16Kernel =
        BF16Kernel.fromEnvironment().0 ?? BF16Kernel.default(flags: CPUFeatures.flags)

    /// C[M,N] = alpha · op(A) · op(B) + beta · C with A and B rounded to bf16 and fp32 accumulation.
    /// Packed row-major A ([M,K], or [K,M] when transA) and B ([K,N], or [N,K] when transB). Split
    /// over the cores (rows of C when M ≥ N, else columns), one thread per part, in `bf16Kernel`.
    public static func gemmBF16(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                                alpha: Float = 1, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                beta: Float = 0, _ c: UnsafeMutablePointer<Float>, kernel: BF16Kernel? = nil) {
        if m == 0 || n == 0 { return }
        if k == 0 { gemm(transA: transA, transB: transB, m: m, n: n, k: 0, alpha: alpha, a, b, beta: beta, c); return }
        if Profiler.isOn { Profiler.addFlops(m, n, k) }
        let lda = transA ? m : k, ldb = transB ? k : n
        // the operands of the part of C at rows r0…, columns c0…
        func at<T>(_ pa: UnsafePointer<T>, _ pb: UnsafePointer<T>, _ r0: Int, _ c0: Int) -> (UnsafePointer<T>, UnsafePointer<T>) {
            (transA ? pa + r0 : pa + r0 * lda, transB ? pb + c0 * ldb : pb + c0)
        }
        let part: (Int, Int, Int, Int) -> Void
        var keep: (BF16Buffer, BF16Buffer)? = nil
        switch kernel ?? bf16Kernel {
        case .vmae:  // rounds while it packs: no separate conversion pass
            part = { r0, r1, c0, c1 in
                let (pa, pb) = at(a, b, r0, c0)
                vmaeBF16(transA, transB, r1 - r0, c1 - c0, k, alpha, pa, lda, pb, ldb, beta, c + r0 * n + c0, n)
            }
        case .onednn:
            let a16 = BF16Buffer(converting: a, count: m * k), b16 = BF16Buffer(converting: b, count: k * n)
            keep = (a16, b16)
            part = { r0, r1, c0, c1 in
                let (pa, pb) = at(UnsafePointer(a16.data), UnsafePointer(b16.data), r0, c0)
                let status = vmae_gemm_bf16(transA ? 1 : 0, transB ? 1 : 0, Int64(r1 - r0), Int64(c1 - c0), Int64(k), alpha, pa, Int64(lda), pb, Int64(ldb),
                                            beta, c + r0 * n + c0, Int64(n))
                precondition(status == 0, "oneDNN gemm_bf16bf16f32 failed with status \(status) on \(m)x\(n)x\(k)")
            }
        }
        let parts = Threads.count
        if parts > 1 && 2 * m * n * k >= 2_000_000 && !insideParallelFor() {
            // Each part packs (rounds) all of the operand it does not split: split the rows of C
            // when B (k·n) is the smaller to pack twice, the columns when A (m·k) is.
            if m >= n {
                let rows = ((m + parts - 1) / parts + 11) / 12 * 12
                DispatchQueue.concurrentPerform(iterations: parts) { w in
                    let r0 = w * rows, r1 = min(m, r0 + rows)
                    if r0 < r1 { part(r0, r1, 0, n) }
                }
            } else {
                let cols = ((n + parts - 1) / parts + 31) / 32 * 32
                DispatchQueue.concurrentPerform(iterations: parts) { w in
                    let c0 = w * cols, c1 = min(n, c0 + cols)
                    if c0 < c1 { part(0, m, c0, c1) }
                }
            }
        } else {
            part(0, m, 0, n)
        }
        withExtendedLifetime(keep) {}
    }
}

extension BLAS {
    /// The general-stride GEMM on the calling thread, in `BLAS.precision` (vmae's bf16 kernel when
    /// bf16 and that is `bf16Kernel`, `gemm` otherwise: with `onednn` these stay fp32, as before
    /// vmae's kernel): for kernels that already split their work over the cores, such as
    /// attention's per-head products.
    @inline(__always)
    public static func gemmMixedOnThisThread(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                                             b: UnsafePointer<Float>, ldb: Int,
                                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                                             oneDNNWithTransposedA: Bool = false) {
        guard precision == .bf16, bf16Kernel == .vmae, m > 0, n > 0, k > 0 else {
            gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                 beta: beta, c: c, ldc: ldc, oneDNNWithTransposedA: oneDNNWithTransposedA)
            return
        }
        if Profiler.isOn { Profiler.addFlops(m, n, k) }
        vmaeBF16(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// vmae's bf16 kernel on the calling thread (Sources/CKernels/bf16_gemm.c), general strides.
    @inline(__always)
    static func vmaeBF16(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                         _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                         _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        let status = vmae_bf16_gemm(transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), alpha,
                                    a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
        precondition(status == 0, "vmae_bf16_gemm could not allocate its packing buffers")
    }
}

/// Which code runs the bf16 GEMM. vmae's needs avx512_bf16 (every CPU seen with amx_bf16 has it
/// too; one without it would get oneDNN's, which dispatches on its own).
public enum BF16Kernel: String, CaseIterable, Sendable {
    /// vmae's own (Sources/CKernels/bf16_gemm.c): blocked, a 12×32 vdpbf16ps micro-kernel, the
    /// rounding done while packing
    case vmae
    /// oneDNN's gemm_bf16bf16f32 after a separate conversion pass of both operands
    case onednn

    /// The kernel for a CPU with these /proc/cpuinfo flags: vmae's needs avx512_bf16.
    public static func `default`(flags: Set<String>) -> BF16Kernel {
        flags.contains("avx512_bf16") ? .vmae : .onednn
    }

    /// `VMAE_BF16_GEMM` from the environment (when unset, `default(flags:)`), or nil with the reason.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment,
                                       flags: Set<String> = CPUFeatures.flags) -> (BF16Kernel?, String?) {
        guard let v = env["VMAE_BF16_GEMM"], !v.isEmpty else { return (Self.default(flags: flags), nil) }
        if let k = BF16Kernel(rawValue: v.lowercased()) { return (k, nil) }
        return (nil, "VMAE_BF16_GEMM=\(v) is not a bf16 GEMM kernel (use vmae or onednn)")
    }
}
