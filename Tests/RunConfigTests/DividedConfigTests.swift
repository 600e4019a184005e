import XCTest

@testable import ExitStatus
@testable import RunConfig

/// `model.attention = "divided"` in the config.
final class DividedConfigTests: XCTestCase {
    func testConfigRefusesRandomMaskingWithDividedAttention() throws {
        XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["model.attention=divided", "mask.type=random"])) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("model.attention") && m.contains("tube"), m)
            XCTAssertTrue(e is UserError)
        }
        XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["model.attention=axial"])) { e in
            XCTAssertTrue("\(e)".contains("model.attention"), "\(e)")
        }
        let tube = try TrainConfig.load(path: nil, overrides: ["model.attention=divided", "mask.type=tube"])
        XCTAssertEqual(tube.modelConfig(numClasses: 3).attention, "divided")
        // fine-tuning uses every token: no mask, nothing to refuse
        let ft = try TrainConfig.load(path: nil, overrides: ["task=finetune", "model.attention=divided", "mask.type=random"])
        XCTAssertTrue(ft.modelConfig(numClasses: 3).dividedAttention)
        XCTAssertEqual(try TrainConfig.load(path: nil).modelConfig(numClasses: 3).attention, "joint")
    }
}
