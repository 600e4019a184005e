import TensorCore
import XCTest

@testable import Interop

/// Every PyTorch fixture replayed with the linear layers' GEMMs in bf16 (mixed precision), at the
/// stated bf16 tolerances (`Parity.Tolerances.bf16`: loss 1e-2 relative, gradients 5e-2 of their
/// largest magnitude, AdamW trajectory 2e-2). Skipped, with the reason printed, on a CPU without
/// bf16 instructions.
final class ParityBF16Tests: XCTestCase {
    func testEveryFixtureWithinTheBF16Tolerances() throws {
        if let why = CPUFeatures.bf16Refusal(CPUFeatures.flags) {
            print("skipped: \(why)")
            throw XCTSkip(why)
        }
        let dir = ParityTests.fixtureDir
        let paths = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".h5") }.sorted().map { dir + "/" + $0 }
        XCTAssertGreaterThanOrEqual(paths.count, 5)
        var bf16Moved = false
        for path in paths {
            let name = URL(fileURLWithPath: path).lastPathComponent
            let r = try Parity.run(path, precision: .bf16)
            XCTAssertEqual(BLAS.precision, .fp32, "the precision must be restored")
            XCTAssertTrue(r.comparisons.contains { $0.what == "loss" && $0.tolerance == 1e-2 }, name)
            XCTAssertTrue(r.comparisons.contains { $0.what.hasPrefix("adamw") && $0.tolerance == 2e-2 }, name)
            for c in r.comparisons {
                XCTAssertLessThanOrEqual(c.error, c.tolerance, "\(name) in bf16: \(c.what)")
            }
            // bf16 really ran: its loss is further from the fp32 reference than fp32's own
            let fp32 = try Parity.run(path)
            let e16 = r.comparisons.first { $0.what == "loss" }!.error, e32 = fp32.comparisons.first { $0.what == "loss" }!.error
            print("\(name): loss error fp32 \(e32), bf16 \(e16); worst bf16 gradient error \(r.comparisons.filter { $0.what.hasPrefix("grad ") }.map(\.error).max() ?? 0)")
            if e16 > e32 { bf16Moved = true }
        }
        XCTAssertTrue(bf16Moved, "no fixture's loss moved in bf16: the bf16 GEMM did not run")
    }
}
