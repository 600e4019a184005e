import Checkpoint
import Foundation
import TestSupport
import Training
import XCTest

@testable import RunConfig

/// The resolved config a run saves: in output_dir/config.json and in the checkpoint's `config`
/// attribute; reading either back gives an equal TrainConfig.
final class SavedConfigTests: XCTestCase {
    func testResolvedConfigIsSavedAndReloadsEqual() throws {
        let dir = TT.scratch("config", self)
        // values that only survive a round trip if every digit is written
        let cfg = try TT.config(TT.tinyTree(outputDir: dir + "/out", steps: 2), in: dir,
                                overrides: ["optim.lr=0.30000000000000004", "optim.min_lr=1e-7", "optim.clip_grad=0.1",
                                            "data.mean=[0.485,0.456,0.40600000000000003]", "optim.weight_decay_end=0.123456789012345678",
                                            "model.layer_norm_eps=1e-12", "mask.type=random", "seed=-3"])
        XCTAssertEqual(cfg.optim.lr, 0.30000000000000004)
        XCTAssertEqual(cfg.optim.weight_decay_end, 0.123456789012345678)
        let s = try Trainer(config: cfg, quiet: true).run()

        let saved = try TrainConfig.load(path: dir + "/out/config.json")
        XCTAssertEqual(saved, cfg, "output_dir/config.json")

        let ck = try Checkpoint.read(try XCTUnwrap(s.checkpoint))
        try ck.config.write(toFile: dir + "/from-checkpoint.json", atomically: true, encoding: .utf8)
        XCTAssertEqual(try TrainConfig.load(path: dir + "/from-checkpoint.json"), cfg, "checkpoint config attribute")

        // the JSON names every key, null ones as null
        let tree = try JSONSerialization.jsonObject(with: Data(cfg.json().utf8)) as! [String: Any]
        let optim = tree["optim"] as! [String: Any]
        XCTAssertTrue(optim["max_steps"] is NSNumber)
        XCTAssertTrue(optim["warmup_epochs"] is NSNumber)
        XCTAssertTrue((tree["checkpoint"] as! [String: Any])["resume"] is NSNull)
        XCTAssertTrue((tree["model"] as! [String: Any])["preset"] is NSNull)
    }
}
