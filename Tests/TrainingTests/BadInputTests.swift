import Checkpoint
import Foundation
import HDF5
import TestSupport
import TensorCore
import Training
import XCTest

/// Bad input through the real binaries: exactly one line on stderr naming the thing, exit
/// status 2, no crash, no stack trace.
final class BadInputTests: XCTestCase {
    var dir = ""
    var config = ""

    override func setUpWithError() throws {
        dir = TT.scratch("bad", self)
        config = try TT.writeConfig(TT.tinyTree(outputDir: dir + "/out", steps: 2), to: dir + "/tiny.json")
    }

    /// Runs a binary and demands status 2 and one stderr line containing every `needles`.
    @discardableResult
    func refused(_ bin: String, _ args: [String], _ needles: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try TT.run(bin, args, scratch: dir)
        let what = "\(bin) \(args.joined(separator: " "))"
        XCTAssertFalse(r.signalled, "\(what): crashed", file: file, line: line)
        XCTAssertEqual(r.status, 2, "\(what): exit status; stderr: \(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.stderrLines.count, 1, "\(what): stderr must be one line, got:\n\(r.stderr)", file: file, line: line)
        let msg = r.stderrLines.first ?? ""
        for n in needles { XCTAssertTrue(msg.contains(n), "\(what): '\(msg)' does not mention '\(n)'", file: file, line: line) }
        for bad in ["Fatal error", "Stack dump", "backtrace", "0x0000"] {
            XCTAssertFalse(r.stderr.contains(bad), "\(what): \(r.stderr)", file: file, line: line)
        }
        return msg
    }

    func train(_ args: [String], _ needles: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        try refused("vmae-train", ["--config", config, "--quiet"] + args, needles, file: file, line: line)
        // refused before any work: no checkpoint was written
        XCTAssertTrue(TT.checkpointFiles(dir + "/out").isEmpty, "\(args)", file: file, line: line)
    }

    func testConfigFileProblems() throws {
        try refused("vmae-train", ["--config", dir + "/nope.json"], ["nope.json"])
        try "{\"optim\": {\"lr\": 1e-3".write(toFile: dir + "/broken.json", atomically: true, encoding: .utf8)
        try refused("vmae-train", ["--config", dir + "/broken.json"], ["broken.json", "JSON"])
        try "[1, 2]".write(toFile: dir + "/list.json", atomically: true, encoding: .utf8)
        try refused("vmae-train", ["--config", dir + "/list.json"], ["list.json", "object"])
    }

    func testUnknownKeySuggestsTheClosest() throws {
        try train(["--set", "optim.lrr=1e-3"], ["optim.lrr", "optim.lr'"])
        try train(["--set", "optimm.lr=1e-3"], ["optimm", "'optim'"])
        var tree = TT.tinyTree(outputDir: dir + "/out")
        tree["mask"] = ["ratio": 0.9, "tpye": "tube"]
        try TT.writeConfig(tree, to: dir + "/typo.json")
        try refused("vmae-train", ["--config", dir + "/typo.json"], ["mask.tpye", "mask.type"])
    }

    func testWrongTypes() throws {
        try train(["--set", "optim.lr=fast"], ["optim.lr", "number", "fast"])
        try train(["--set", "optim.lr=\"fast\""], ["optim.lr", "number"])
        try train(["--set", "seed=1.5"], ["seed", "integer"])
        try train(["--set", "optim.betas=0.9"], ["optim.betas"])
        try train(["--set", "data.mean=[\"a\",1,2]"], ["data.mean"])
        try train(["--set", "model=3"], ["model", "object"])
        try train(["--set", "checkpoint.keep_last=null"], ["checkpoint.keep_last"])
    }

    func testImpossibleValuesNameTheirKey() throws {
        try train(["--set", "mask.ratio=1.0"], ["mask.ratio"])
        try train(["--set", "mask.ratio=1.5"], ["mask.ratio"])
        try train(["--set", "data.input_size=36"], ["data.input_size", "patch_size"])
        try train(["--set", "model.img_size=36", "--set", "data.input_size=36"], ["model.img_size", "patch_size"])
        try train(["--set", "data.num_frames=5"], ["data.num_frames", "tubelet_size"])
        try train(["--set", "model.encoder_num_heads=3"], ["model.encoder_num_heads", "encoder_embed_dim"])
        try train(["--set", "model.decoder_num_heads=5"], ["model.decoder_num_heads", "decoder_embed_dim"])
        try train(["--set", "optim.batch_size=0"], ["optim.batch_size"])
        try train(["--set", "mask.type=blocks"], ["mask.type"])
        try train(["--set", "optim.batch_size=32"], ["optim.batch_size"])   // more than the 16 clips
    }

    func testCommandLineProblems() throws {
        try train(["--set", "optim.lr"], ["--set", "optim.lr", "key=value"])
        try train(["--stop-at", "0"], ["--stop-at"])
        try train(["--threads", "0"], ["--threads"])
    }

    /// VMAE_SGEMM names the fp32 GEMM library; any other value is one line and status 2, before
    /// any work (vmae-train) or any timing (vmae bench, also for its --sgemm option).
    func testABadGEMMBackendIsRefusedWithOneLine() throws {
        let r = try TT.Running(try TT.binary("vmae-train"), ["--config", config, "--quiet"], scratch: dir,
                               environment: ["VMAE_SGEMM": "mkl"]).wait(timeout: 60)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderrLines.count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("VMAE_SGEMM=mkl is not a GEMM backend (use openblas, onednn or auto)"), r.stderr)
        XCTAssertTrue(TT.checkpointFiles(dir + "/out").isEmpty)
        let bench = ["bench", "step", "--preset", "vit-tiny", "--frames", "4", "--size", "32", "--batch", "1", "--steps", "1", "--threads", "1"]
        let b = try TT.Running(try TT.binary("vmae"), bench, scratch: dir, environment: ["VMAE_SGEMM": "mkl"]).wait(timeout: 60)
        XCTAssertEqual(b.status, 2, b.stderr)
        XCTAssertTrue(b.stderr.contains("VMAE_SGEMM=mkl"), b.stderr)
        // every other command of both executables too, before it runs
        let i = try TT.Running(try TT.binary("vmae"), ["inspect", dir + "/nothing.h5"], scratch: dir,
                               environment: ["VMAE_SGEMM": "mkl"]).wait(timeout: 60)
        XCTAssertEqual(i.status, 2, i.stderr)
        XCTAssertEqual(i.stderrLines, ["error: VMAE_SGEMM=mkl is not a GEMM backend (use openblas, onednn or auto)"])
        try refused("vmae", bench + ["--sgemm", "fast"], ["--sgemm", "openblas, onednn or auto", "fast"])
        // a good value is used and named on the bench line
        let ok = try TT.run("vmae", bench + ["--sgemm", "openblas"], scratch: dir)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("\"sgemm\":\"openblas\""), ok.stdout)
    }

    /// VMAE_BF16_GEMM names the bf16 GEMM kernel; any other value is one line and status 2 before
    /// any work, like VMAE_SGEMM; a good one is named on a bf16 bench line (where the CPU has bf16).
    func testABadBF16KernelIsRefusedWithOneLine() throws {
        let r = try TT.Running(try TT.binary("vmae-train"), ["--config", config, "--quiet"], scratch: dir,
                               environment: ["VMAE_BF16_GEMM": "amx"]).wait(timeout: 60)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderrLines, ["error: VMAE_BF16_GEMM=amx is not a bf16 GEMM kernel (use vmae or onednn)"])
        XCTAssertTrue(TT.checkpointFiles(dir + "/out").isEmpty)
        let bench = ["bench", "step", "--preset", "vit-tiny", "--frames", "4", "--size", "32", "--batch", "1", "--steps", "1", "--threads", "1"]
        let b = try TT.Running(try TT.binary("vmae"), bench, scratch: dir, environment: ["VMAE_BF16_GEMM": "amx"]).wait(timeout: 60)
        XCTAssertEqual(b.status, 2, b.stderr)
        XCTAssertEqual(b.stderrLines, ["error: VMAE_BF16_GEMM=amx is not a bf16 GEMM kernel (use vmae or onednn)"])
        if let why = CPUFeatures.bf16Refusal(CPUFeatures.flags) {
            print("skipped the bf16 bench line: \(why)")
            return
        }
        for kernel in ["vmae", "onednn"] {
            let ok = try TT.Running(try TT.binary("vmae"), bench + ["--precision", "bf16"], scratch: dir,
                                    environment: ["VMAE_BF16_GEMM": kernel]).wait(timeout: 120)
            XCTAssertEqual(ok.status, 0, ok.stderr)
            XCTAssertTrue(ok.stdout.contains("\"bf16_gemm\":\"\(kernel)\""), ok.stdout)
        }
    }

    func testMissingListFile() throws {
        try train(["--set", "data.train_list=\(dir)/nolist.txt"], ["data.train_list", "nolist.txt"])
    }

    func testResumeOfFilesThatAreNotCheckpoints() throws {
        try train(["--resume", dir + "/missing.h5"], ["missing.h5", "no such file"])
        try "hello".write(toFile: dir + "/text.h5", atomically: true, encoding: .utf8)
        try train(["--resume", dir + "/text.h5"], ["text.h5", "HDF5"])
        let foreign = dir + "/foreign.h5"
        let f = try H5File.create(foreign)
        try f.write("weights", [Float](repeating: 1, count: 6), shape: [2, 3])
        try f.close()
        try train(["--resume", foreign], ["foreign.h5", "not a vmae checkpoint"])
        try train(["--resume", dir], ["HDF5"])
    }

    /// Model A's checkpoint resumed into the wider model B: the tensor and both shapes.
    func testResumeIntoAModelOfAnotherShape() throws {
        let cfgA = try TT.config(TT.tinyTree(outputDir: dir + "/a", steps: 1), in: dir)
        let s = try Trainer(config: cfgA, quiet: true).run()
        let ck = try XCTUnwrap(s.checkpoint)
        try train(["--set", "model.encoder_embed_dim=64", "--resume", ck],
                  [URL(fileURLWithPath: ck).lastPathComponent, "encoder.patch_embed.proj.weight", "[32, 3, 2, 8, 8]", "[64, 3, 2, 8, 8]"])
        // and "auto" in A's own folder with B's config: the same refusal, A's files untouched
        let before = try String(contentsOfFile: dir + "/a/config.json", encoding: .utf8)
        try refused("vmae-train", ["--config", config, "--quiet", "--set", "output_dir=\(dir)/a", "--set", "model.encoder_embed_dim=64",
                                   "--resume", "auto"], ["encoder.patch_embed.proj.weight", "[64, 3, 2, 8, 8]"])
        XCTAssertEqual(try String(contentsOfFile: dir + "/a/config.json", encoding: .utf8), before,
                       "a refused run must not overwrite the run's config.json")
    }

    func testInspectAndParityOfWrongFiles() throws {
        try refused("vmae", ["inspect", dir + "/missing.h5"], ["missing.h5"])
        try "hello".write(toFile: dir + "/text.h5", atomically: true, encoding: .utf8)
        try refused("vmae", ["inspect", dir + "/text.h5"], ["text.h5"])
        let foreign = dir + "/foreign.h5"
        let f = try H5File.create(foreign)
        try f.setAttribute("format", "something-else")
        try f.close()
        try refused("vmae", ["inspect", foreign], ["foreign.h5", "not a vmae checkpoint"])
        // parity of a non-fixture: a text file, a checkpoint, a missing file
        try refused("vmae", ["parity", dir + "/text.h5"], ["text.h5"])
        try refused("vmae", ["parity", dir + "/missing.h5"], ["missing.h5"])
        let cfgA = try TT.config(TT.tinyTree(outputDir: dir + "/a", steps: 1), in: dir)
        let ck = try XCTUnwrap(try Trainer(config: cfgA, quiet: true).run().checkpoint)
        try refused("vmae", ["parity", ck], ["not a vmae parity fixture"])
    }
}
