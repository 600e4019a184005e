import CDNNL
import Foundation

/// Which library runs the fp32 GEMMs. OpenBLAS runs everything unless oneDNN's `dnnl_sgemm` is
/// chosen for the products whose A is not transposed (forward and input-gradient products: x·Wᵀ,
/// dy·W, Q·Kᵀ, P·V). Measured single-threaded at the model's shapes on an Intel Xeon (AVX-512,
/// OpenBLAS 0.3.21 SkylakeX, libdnnl 2.6): oneDNN 0.80–0.92× OpenBLAS's time on those, but 1.08–1.23×
/// on the transposed-A (weight-gradient) products, so those stay on OpenBLAS. On an AMD EPYC Zen 5
/// (AVX-512) the whole pretraining step with `onednn` took 0.63–0.81× the `openblas` step; on an
/// AMD EPYC Zen 3 (AVX2 and FMA, no AVX-512) oneDNN's attention ran 1.20–1.41× OpenBLAS's rate
/// inside the step (5 of 6 alternating profile pairs) and its linear layers 1.0–1.16×; on an AMD
/// EPYC Zen 4 (AVX-512) the step with `onednn` took 0.87–0.94× the `openblas` step.
///
/// The choice is fixed per process (a function of `VMAE_SGEMM` and the CPU), never timed at run
/// time, so a run and its resume multiply with the same kernels.
public enum GEMMBackend: String, CaseIterable, Sendable {
    /// every fp32 GEMM in OpenBLAS
    case openblas
    /// oneDNN for the GEMMs whose A is not transposed, OpenBLAS for the rest
    case onednn
    /// `onednn` on CPUs with AVX-512 or with AVX2 and FMA (measured faster on an Intel Xeon and on
    /// AMD Zen 3, Zen 4 and Zen 5), `openblas` on a CPU with neither (oneDNN's sgemm has no faster
    /// kernel there; the numeric targets are built for AVX2 and FMA anyway)
    case auto

    /// `VMAE_SGEMM` from the environment (auto when unset), or nil with the reason when it is not a backend.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment)
        -> (GEMMBackend?, String?) {
        guard let v = env["VMAE_SGEMM"], !v.isEmpty else { return (.auto, nil) }
        if let b = GEMMBackend(rawValue: v.lowercased()) { return (b, nil) }
        return (nil, "VMAE_SGEMM=\(v) is not a GEMM backend (use openblas, onednn or auto)")
    }

    /// `auto` resolved for a CPU with these /proc/cpuinfo flags.
    public func resolved(flags: Set<String>) -> GEMMBackend {
        guard self == .auto else { return self }
        let avx2 = flags.contains("avx2") && flags.contains("fma")
        return flags.contains("avx512f") || avx2 ? .onednn : .openblas
    }
}

extension BLAS {
    /// The resolved fp32 backend of this process (never `auto`): from `VMAE_SGEMM` and the CPU.
    /// An invalid `VMAE_SGEMM` leaves OpenBLAS here; the commands refuse it first (`backendError`).
    nonisolated(unsafe) public private(set) static var backend: GEMMBackend = {
        (GEMMBackend.fromEnvironment().0 ?? .openblas).resolved(flags: CPUFeatures.flags)
    }()

    /// The reason `VMAE_SGEMM` cannot be used, or nil: the commands turn it into one line and status 2.
    public static var backendError: String? { GEMMBackend.fromEnvironment().1 ?? BF16Kernel.fromEnvironment().1 }

    /// Switches the fp32 backend (tests compare the two on the same products).
    public static func setBackend(_ b: GEMMBackend) {
        backend = b.resolved(flags: CPUFeatures.flags)
    }

    /// The fp32 GEMM on one thread in oneDNN; false when oneDNN reports it cannot run it.
    @inline(__always)
    static func sgemmDNNL(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                          _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                          _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) -> Bool {
        vmae_sgemm_dnnl(transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), alpha,
                        a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc)) == 0
    }
}
