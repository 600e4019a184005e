import Checkpoint
import Foundation
import TestSupport
import XCTest

@testable import RunConfig

/// The resolved config: saved in output_dir/config.json and in the checkpoint's `config`
/// attribute; reading either back gives an equal TrainConfig.
final class ConfigTests: XCTestCase {
    func testDefaultsRoundTripForBothTasks() throws {
        let dir = TT.scratch("config-defaults", self)
        for task in ["pretrain", "finetune"] {
            let cfg = try TrainConfig.load(path: nil, overrides: ["task=\(task)"])
            try cfg.json().write(toFile: dir + "/\(task).json", atomically: true, encoding: .utf8)
            XCTAssertEqual(try TrainConfig.load(path: dir + "/\(task).json"), cfg, task)
        }
    }

    /// `log.tensorboard`: on by default for both tasks, a boolean, refused otherwise with its path.
    func testTensorBoardKeyDefaultsOnAndTakesOnlyABoolean() throws {
        for task in ["pretrain", "finetune"] {
            XCTAssertTrue(try TrainConfig.load(path: nil, overrides: ["task=\(task)"]).log.tensorboard, task)
        }
        XCTAssertFalse(try TrainConfig.load(path: nil, overrides: ["log.tensorboard=false"]).log.tensorboard)
        for bad in ["log.tensorboard=yes", "log.tensorboard=1", "log.tensorboard=null", "log.tensorboard=[true]"] {
            XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: [bad]), bad) { e in
                XCTAssertTrue("\(e)".contains("log.tensorboard: must be true or false"), "\(bad): \(e)")
            }
        }
        XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["log.tensorbord=true"])) { e in
            XCTAssertTrue("\(e)".contains("did you mean 'log.tensorboard'"), "\(e)")
        }
    }

    /// `--set` values: JSON when they parse, else strings; sections made on the way.
    func testOverrides() throws {
        let cfg = try TrainConfig.load(path: nil, overrides: ["optim.lr=3e-4", "optim.betas=[0.9,0.95]", "checkpoint.resume=auto",
                                                             "output_dir=runs/x y", "optim.clip_grad=null", "data.num_workers=0"])
        XCTAssertEqual(cfg.optim.lr, 3e-4)
        XCTAssertEqual(cfg.optim.betas, [0.9, 0.95])
        XCTAssertEqual(cfg.checkpoint.resume, "auto")
        XCTAssertEqual(cfg.output_dir, "runs/x y")
        XCTAssertNil(cfg.optim.clip_grad)
        XCTAssertEqual(cfg.data.num_workers, 0)
        XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["optim.lrr=1"])) { e in
            XCTAssertTrue("\(e)".contains("did you mean 'optim.lr'"), "\(e)")
        }
    }
}

/// Numbers are read exactly as written, and a config written and read back does not drift by
/// an ulp. (On Linux, JSONSerialization's NSNumber → Double is 1–2 ulp off for these two; the
/// config path must keep going through the decimal text, as it does, and these tests guard that.)
final class ConfigNumberTests: XCTestCase {
    func testLongNumbersReadExactlyAndRoundTrip() throws {
        let dir = TT.scratch("config-numbers", self)
        try "{\"optim\": {\"lr\": 0.0075899100092663855, \"min_lr\": 0.006980499082866326}}"
            .write(toFile: dir + "/n.json", atomically: true, encoding: .utf8)
        let cfg = try TrainConfig.load(path: dir + "/n.json")
        XCTAssertEqual(cfg.optim.lr, 0.0075899100092663855)
        XCTAssertEqual(cfg.optim.min_lr, 0.006980499082866326)
        var c = cfg
        for i in 0..<3 {
            try c.json().write(toFile: dir + "/r\(i).json", atomically: true, encoding: .utf8)
            c = try TrainConfig.load(path: dir + "/r\(i).json")
            XCTAssertEqual(c, cfg, "round trip \(i)")
        }
        let o = try TrainConfig.load(path: nil, overrides: ["optim.lr=0.0075899100092663855", "optim.min_lr=0.006980499082866326"])
        XCTAssertEqual(o.optim.lr, 0.0075899100092663855)
        XCTAssertEqual(o.optim.min_lr, 0.006980499082866326)
    }

    /// Types still come out right through the exact reader: ints, bools, nulls, strings, lists.
    func testKindsThroughTheExactReader() throws {
        let dir = TT.scratch("config-kinds", self)
        try "{\"seed\": 12, \"model\": {\"qkv_bias\": false, \"preset\": null}, \"output_dir\": \"x\", \"optim\": {\"betas\": [0.5, 0.75]}}"
            .write(toFile: dir + "/k.json", atomically: true, encoding: .utf8)
        let c = try TrainConfig.load(path: dir + "/k.json")
        XCTAssertEqual(c.seed, 12)
        XCTAssertFalse(c.model.qkv_bias)
        XCTAssertNil(c.model.preset)
        XCTAssertEqual(c.output_dir, "x")
        XCTAssertEqual(c.optim.betas, [0.5, 0.75])
        XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["model.qkv_bias=1"]))
        XCTAssertThrowsError(try TrainConfig.load(path: nil, overrides: ["seed=true"]))
    }
}

/// Found by the config fuzz harness (Fuzz/config): a key holding a newline made the "unknown
/// key" message two lines. Quoted user text is now escaped, so every refusal is one line.
final class ConfigOneLineTests: XCTestCase {
    func testKeysWithControlCharactersGiveOneLine() throws {
        let dir = TT.scratch("oneline", self)
        let p = dir + "/c.json"
        try Data("{\"task\": \"pretrain\", \"chec\\nkpoint\\u001b[31m\": 1}".utf8).write(to: URL(fileURLWithPath: p))
        XCTAssertThrowsError(try TrainConfig.load(path: p)) { e in
            let msg = "\(e)"
            XCTAssertFalse(msg.contains("\n") || msg.contains("\u{1b}"), msg)
            XCTAssertTrue(msg.contains("unknown key 'chec\\nkpoint\\u{1b}[31m'"), msg)
        }
        XCTAssertThrowsError(try TrainConfig.load(path: p, overrides: ["optim.l\nr=1"])) { e in
            XCTAssertFalse("\(e)".contains("\n"), "\(e)")
        }
    }
}
