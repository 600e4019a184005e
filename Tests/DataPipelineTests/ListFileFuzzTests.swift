import DataPipeline
import Foundation
import TestSupport
import XCTest

/// Found by the list-file fuzz harness (Fuzz/listfile): a label of 188888888888888888 with no
/// classes.txt beside the list made a class name for every index below it (an allocation of
/// 3·10^18 bytes, a crash). Labels are now refused from 1,000,000 on, with the line named.
final class ListFileFuzzTests: XCTestCase {
    func testAHugeLabelIsRefusedWithTheLineNamed() throws {
        let dir = TT.scratch("huge-label", self)
        let list = dir + "/train.txt"
        try FileManager.default.copyItem(atPath: TT.packageRoot + "/Tests/Fixtures/fuzz/listfile-huge-label.txt", toPath: list)
        XCTAssertThrowsError(try VideoList.readListFile(list)) { e in
            XCTAssertEqual("\(e)", "\(list):1: label 188888888888888888 is too large (labels are class indices below 1000000)")
        }
        for line in ["a.mp4 1000000", "a.mp4,1000000"] {
            XCTAssertThrowsError(try VideoList.parseList(line, name: "l", baseDir: "/"), line) { e in
                XCTAssertTrue("\(e)".contains("label 1000000 is too large"), "\(e)")
            }
        }
        XCTAssertEqual(try VideoList.parseList("a.mp4 999999", name: "l", baseDir: "/").first?.label, 999_999)
    }
}
