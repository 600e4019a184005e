import Checkpoint
import Foundation
import TestSupport
import XCTest

/// Files found by fuzzing (Fuzz/, scripts/fuzz.sh) or made to the same end, committed under
/// Tests/Fixtures/fuzz/: each is refused with one line, never a crash.
final class HostileFileTests: XCTestCase {
    static let dir = TT.packageRoot + "/Tests/Fixtures/fuzz"

    /// A checkpoint whose /model dataset declares 2^40 float32s (chunked, nothing stored: a
    /// 7 KB file): refused before 4 TB are asked for.
    func testCheckpointDeclaringAHugeShapeIsRefused() throws {
        let p = Self.dir + "/checkpoint-huge-shape.h5"
        XCTAssertThrowsError(try Checkpoint.read(p)) { e in
            XCTAssertTrue("\(e)".contains("model/mask_token claims shape [1048576, 1048576], more than the 7072-byte file holds"), "\(e)")
        }
        let r = try TT.run("vmae", ["inspect", p], scratch: TT.scratch("huge", self))
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderrLines.count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("claims shape"), r.stderr)
    }
}
