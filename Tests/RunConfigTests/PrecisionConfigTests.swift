import TensorCore
import XCTest

@testable import RunConfig

/// `optim.precision`: "fp32" by default, "bf16" on a CPU with bf16 instructions, anything else
/// refused with the key's path before any work starts.
final class PrecisionConfigTests: XCTestCase {
    func testDefaultIsFP32() throws {
        let cfg = try TrainConfig.load(path: nil)
        XCTAssertEqual(cfg.optim.precision, "fp32")
        XCTAssertEqual(cfg.gemmPrecision, .fp32)
    }

    func testUnknownPrecisionRefused() {
        for bad in ["fp16", "BF16", "1"] {
            XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["optim.precision=\(bad)"])) { e in
                XCTAssertTrue("\(e)".contains("optim.precision"), "\(e)")
            }
        }
    }

    func testBF16AcceptedOrRefusedByTheCPU() throws {
        if let why = CPUFeatures.bf16Refusal(CPUFeatures.flags) {
            XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["optim.precision=bf16"])) { e in
                XCTAssertTrue("\(e)".contains("optim.precision") && "\(e)".contains("avx512_bf16"), "\(e)")
            }
            print("bf16 refused as it should be on this CPU: \(why)")
        } else {
            let cfg = try TrainConfig.load(path: nil, overrides: ["optim.precision=bf16"])
            XCTAssertEqual(cfg.gemmPrecision, .bf16)
        }
    }

    /// A config stored before the key existed reads as fp32.
    func testMissingKeyReadsAsFP32() throws {
        var cfg = try TrainConfig.load(path: nil)
        cfg.optim.precision = nil
        XCTAssertEqual(cfg.gemmPrecision, .fp32)
    }
}
