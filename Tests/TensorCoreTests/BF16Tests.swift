import XCTest

@testable import TensorCore

/// bf16 rounding against a reference that compares neighbours in double, and the bf16 GEMM
/// against fp32 within the bf16 error bound.
final class BF16Tests: XCTestCase {
    func testRoundingMatchesTheReference() {
        var rng = RNG(seed: 7)
        var xs: [Float] = [0, -0, 1, -1, 1.5, 3.14159, 1e-40, -1e-40, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                           -.greatestFiniteMagnitude, 3.3961e38, 3.3963e38, .infinity, -.infinity]
        for _ in 0..<20_000 { xs.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }  // every exponent
        for _ in 0..<5_000 { xs.append(rng.uniform() * 8 - 4) }
        for x in xs where !x.isNaN {
            XCTAssertEqual(BF16.round(x), BF16.roundReference(x), "x = \(x) (0x\(String(x.bitPattern, radix: 16)))")
        }
        // the vectorized converter agrees with the scalar one (lengths with and without a tail)
        for n in [xs.count, 16, 17, 3] {
            let src = Array(xs.prefix(n))
            var out = [UInt16](repeating: 0, count: n)
            src.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { BF16.convert(s.baseAddress!, $0.baseAddress!, count: n) } }
            for i in 0..<n where !src[i].isNaN { XCTAssertEqual(out[i], BF16.round(src[i]), "\(src[i])") }
        }
    }

    func testTiesGoToEven() {
        // 1 + 2^-8 is halfway between 1 (0x3f80, even) and 1 + 2^-7 (0x3f81): down to even
        XCTAssertEqual(BF16.round(Float(bitPattern: 0x3f80_8000)), 0x3f80)
        // 1 + 3·2^-8 is halfway between 0x3f81 (odd) and 0x3f82 (even): up to even
        XCTAssertEqual(BF16.round(Float(bitPattern: 0x3f81_8000)), 0x3f82)
        // just above / below a tie
        XCTAssertEqual(BF16.round(Float(bitPattern: 0x3f80_8001)), 0x3f81)
        XCTAssertEqual(BF16.round(Float(bitPattern: 0x3f81_7fff)), 0x3f81)
        // negative ties mirror
        XCTAssertEqual(BF16.round(Float(bitPattern: 0xbf80_8000)), 0xbf80)
        XCTAssertEqual(BF16.round(Float(bitPattern: 0xbf81_8000)), 0xbf82)
        XCTAssertEqual(BF16.roundReference(Float(bitPattern: 0x3f81_8000)), 0x3f82)
    }

    func testNaNAndInfinity() {
        XCTAssertEqual(BF16.round(.infinity), 0x7f80)
        XCTAssertEqual(BF16.round(-.infinity), 0xff80)
        XCTAssertTrue(BF16.float(BF16.round(.infinity)).isInfinite)
        // the largest float rounds past the largest bf16: Inf, as PyTorch's conversion
        XCTAssertEqual(BF16.round(.greatestFiniteMagnitude), 0x7f80)
        // NaN stays NaN, even one whose payload sits only in the low 16 bits (truncation would give Inf)
        for bits: UInt32 in [0x7fc0_0000, 0x7f80_0001, 0xff80_0001, 0x7fff_ffff] {
            let h = BF16.round(Float(bitPattern: bits))
            XCTAssertTrue(BF16.float(h).isNaN, "0x\(String(bits, radix: 16)) → 0x\(String(h, radix: 16))")
            XCTAssertEqual(h & 0x8000, UInt16(bits >> 16) & 0x8000, "sign kept")
        }
        var out = [UInt16](repeating: 0, count: 32)
        let src = [Float](repeating: Float(bitPattern: 0x7f80_0001), count: 32)
        src.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { BF16.convert(s.baseAddress!, $0.baseAddress!, count: 32) } }
        XCTAssertTrue(out.allSatisfy { BF16.float($0).isNaN })
        XCTAssertEqual(BF16.float(0x3fc0), 1.5)
    }

    func testRefusalWithoutBF16Instructions() {
        XCTAssertNotNil(CPUFeatures.bf16Refusal(["avx2", "avx512f", "fma"]))
        XCTAssertNil(CPUFeatures.bf16Refusal(["avx512f", "avx512_bf16"]))
        XCTAssertEqual(CPUFeatures.bf16Instructions(["avx512_bf16", "amx_bf16"]), "amx_bf16")
        XCTAssertNil(CPUFeatures.bf16Instructions([]))
    }

    /// Σ_p |op(A)_ip · op(B)_pj| in double: the scale of element (i, j)'s rounding error.
    static func absProductSum(_ a: Tensor, _ b: Tensor, _ i: Int, _ j: Int, ta: Bool, tb: Bool, m: Int, n: Int, k: Int) -> Double {
        var sum = 0.0
        for p in 0..<k {
            let av = ta ? a.data[p * m + i] : a.data[i * k + p]
            let bv = tb ? b.data[j * k + p] : b.data[p * n + j]
            sum += abs(Double(av) * Double(bv))
        }
        return sum
    }

    /// bf16 GEMM vs the fp32 product, per element within the bound of rounding both operands:
    /// |Δc| ≤ (2u + u² + K·2⁻²³) · Σ_p |a_ip|·|b_pj| with u = 2⁻⁸, for every transpose form and beta.
    func testBF16GemmWithinTheBF16Bound() throws {
        if let why = CPUFeatures.bf16Refusal(CPUFeatures.flags) {
            print("skipped: \(why)")
            throw XCTSkip(why)
        }
        var rng = RNG(seed: 3)
        let u = 1.0 / 256
        for kernel in BF16Kernel.allCases {
        for (m, n, k) in [(37, 29, 53), (300, 200, 150), (8, 1000, 64), (1200, 96, 384)] {
            for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                for beta: Float in [0, 1] {
                    let a = Tensor(uninitialized: [m * k]), b = Tensor(uninitialized: [k * n])
                    rng.fillUniform(a, low: -1, high: 1); rng.fillUniform(b, low: -1, high: 1)
                    let c0 = Tensor(uninitialized: [m * n]); rng.fillUniform(c0, low: -1, high: 1)
                    let c = c0.copy()
                    BLAS.gemmBF16(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a.data, b.data, beta: beta, c.data, kernel: kernel)
                    let ref = c0.copy()
                    BLAS.naiveGemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a.data, b.data, beta: beta, ref.data)
                    var worstRatio = 0.0, anyDifference = false
                    for i in 0..<m { for j in 0..<n {
                        let absSum = Self.absProductSum(a, b, i, j, ta: ta, tb: tb, m: m, n: n, k: k)
                        let bound = 0.5 * (2 * u + u * u + Double(k) * 0x1p-23) * absSum + 1e-6 * abs(Double(ref.data[i * n + j]))
                        let err = abs(Double(c.data[i * n + j]) - Double(ref.data[i * n + j]))
                        worstRatio = max(worstRatio, err / bound)
                        if err > 1e-5 * absSum { anyDifference = true }
                    } }
                    XCTAssertLessThanOrEqual(worstRatio, 1, "\(kernel) \(m)x\(n)x\(k) ta \(ta) tb \(tb) beta \(beta)")
                    XCTAssertTrue(anyDifference, "the product must really be bf16 (it equals fp32 to 1e-5)")
                }
            }
        }
        }
    }

    /// vmae's kernel is exactly "round both operands to bf16 (BF16.round), multiply, sum in fp32":
    /// against the double-accumulated product of the pre-rounded operands it may differ only by
    /// fp32 summation, |Δc| ≤ (K + 2)·2⁻²⁴·|alpha|·Σ_p |ã_ip|·|b̃_pj| — far inside the bf16 bound, so a
    /// truncating or a wrongly paired packing fails it. Shapes straddle every block edge
    /// (MR 12, NR 32, KC 256, MC 192; NC 4096 is past every shape here; odd K), one thread and split over the cores.
    func testVmaeKernelIsRoundedOperandsSummedInFloat() throws {
        if let why = CPUFeatures.bf16Refusal(CPUFeatures.flags) {
            print("skipped: \(why)")
            throw XCTSkip(why)
        }
        var rng = RNG(seed: 11)
        let shapes = [(1, 1, 1), (13, 33, 3), (11, 31, 257), (193, 40, 513), (25, 1057, 40), (12, 32, 256), (400, 70, 130)]
        for (m, n, k) in shapes {
            for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                for beta: Float in [0, 0.75] {
                    let a = Tensor(uninitialized: [m * k]), b = Tensor(uninitialized: [k * n])
                    rng.fillUniform(a, low: -2, high: 2); rng.fillUniform(b, low: -2, high: 2)
                    let c0 = Tensor(uninitialized: [m * n]); rng.fillUniform(c0, low: -1, high: 1)
                    let c = c0.copy()
                    if beta == 0 { for i in 0..<(m * n) { c.data[i] = .nan } }   // beta 0 must not read C
                    BLAS.gemmBF16(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1.5, a.data, b.data, beta: beta, c.data, kernel: .vmae)
                    let ra = a.copy(), rb = b.copy()
                    for i in 0..<(m * k) { ra.data[i] = BF16.float(BF16.round(a.data[i])) }
                    for i in 0..<(k * n) { rb.data[i] = BF16.float(BF16.round(b.data[i])) }
                    let ref = c0.copy()
                    BLAS.naiveGemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1.5, ra.data, rb.data, beta: beta, ref.data)
                    var worst = 0.0
                    for i in 0..<m { for j in 0..<n {
                        let absSum = Self.absProductSum(ra, rb, i, j, ta: ta, tb: tb, m: m, n: n, k: k)
                        let bound = Double(k + 2) * 0x1p-24 * 1.5 * absSum + 0x1p-23 * (abs(Double(ref.data[i * n + j])) + 1e-30)
                        worst = max(worst, abs(Double(c.data[i * n + j]) - Double(ref.data[i * n + j])) / bound)
                    } }
                    XCTAssertLessThanOrEqual(worst, 1, "\(m)x\(n)x\(k) ta \(ta) tb \(tb) beta \(beta)")
                }
            }
        }
        // NaN and Inf in an operand reach exactly the products they touch
        let a = Tensor(filled: 1, shape: [4 * 3]), b = Tensor(filled: 1, shape: [3 * 5]), c = Tensor(zeros: [4 * 5])
        a.data[1 * 3 + 2] = .nan
        b.data[0 * 5 + 4] = .infinity
        BLAS.gemmBF16(m: 4, n: 5, k: 3, a.data, b.data, c.data, kernel: .vmae)
        for i in 0..<4 { for j in 0..<5 {
            let v = c.data[i * 5 + j]
            if i == 1 { XCTAssertTrue(v.isNaN, "row 1 meets the NaN") }
            else if j == 4 { XCTAssertEqual(v, .infinity) }
            else { XCTAssertEqual(v, 3) }
        } }
    }

    func testBF16KernelFromTheEnvironment() {
        XCTAssertEqual(BF16Kernel.fromEnvironment([:], flags: ["avx512f", "avx512_bf16"]).0, .vmae)
        XCTAssertEqual(BF16Kernel.fromEnvironment([:], flags: ["amx_bf16", "amx_tile"]).0, .onednn)
        XCTAssertEqual(BF16Kernel.fromEnvironment(["VMAE_BF16_GEMM": "oneDNN"]).0, .onednn)
        XCTAssertNil(BF16Kernel.fromEnvironment(["VMAE_BF16_GEMM": "mkl"]).0)
        XCTAssertNotNil(BF16Kernel.fromEnvironment(["VMAE_BF16_GEMM": "mkl"]).1)
        XCTAssertEqual(BF16Kernel.default(flags: ["avx512f", "avx512_bf16"]), .vmae)
        XCTAssertEqual(BF16Kernel.default(flags: ["avx512f", "amx_bf16", "amx_tile"]), .onednn)
    }
}
