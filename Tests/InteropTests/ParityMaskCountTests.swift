import ExitStatus
import Foundation
import HDF5
@testable import Interop
import TestSupport
import VideoMAE
import XCTest

/// Fixture masks that a Mask cannot hold (different counts per sample, a decoder map that keeps
/// nothing) are refused with one line, not a trap.
final class ParityMaskCountTests: XCTestCase {
    func fixture(_ name: String, mask: [UInt8], decoderMask: [UInt8]?) throws -> String {
        let path = TT.scratch("parity-maskcount", self) + "/\(name).h5"
        let f = try H5File.create(path)
        try f.setAttribute("format", "vmae-parity-fixture")
        try f.setAttribute("format_version", Int64(1))
        try f.setAttribute("kind", "pretrain")
        try f.setAttribute("config", String(data: try JSONSerialization.data(withJSONObject: ParityHostileTests.config, options: [.sortedKeys]), encoding: .utf8)!)
        try f.write("inputs/pixel_values", (0..<64).map { Float($0 % 7) / 7 }, shape: [2, 2, 1, 4, 4])
        try f.write("inputs/mask", mask, shape: [2, 4])
        if let decoderMask { try f.write("inputs/decoder_mask", decoderMask, shape: [2, 4]) }
        let model = PretrainModel(try JSONDecoder().decode(ModelConfig.self, from: JSONSerialization.data(withJSONObject: ParityHostileTests.config)))
        for (name, p) in model.namedParameters() {
            try f.write("params/\(name)", (0..<p.count).map { Float($0 % 5) / 10 - 0.2 }, shape: p.shape)
        }
        try f.write("expected/loss", scalar: Float(1))
        try f.close()
        return path
    }

    func refused(_ path: String, _ expect: String) {
        XCTAssertThrowsError(try Parity.run(path)) { e in
            XCTAssertTrue(e is UserError && "\(e)".contains(expect) && !"\(e)".contains("\n"), "\(e)")
        }
    }

    func testUnequalCountsRefused() throws {
        refused(try fixture("enc", mask: [1, 1, 1, 0, 1, 1, 0, 0], decoderMask: nil), "inputs/mask hides a different number")
        refused(try fixture("dec", mask: [1, 1, 1, 0, 1, 1, 1, 0], decoderMask: [1, 1, 0, 0, 1, 0, 0, 0]), "inputs/decoder_mask keeps")
        refused(try fixture("none", mask: [1, 1, 1, 0, 1, 1, 1, 0], decoderMask: [1, 1, 1, 1, 1, 1, 1, 1]), "inputs/decoder_mask keeps")
        // a well-formed decoder map is read (and the run gets as far as the missing expected grads)
        let ok = try Parity.run(try fixture("ok", mask: [1, 1, 1, 0, 1, 1, 1, 0], decoderMask: [1, 1, 0, 0, 0, 1, 0, 1]))
        XCTAssertTrue(ok.comparisons.contains { $0.what == "loss" })
    }
}
