import Checkpoint
import Foundation
import TensorCore
import RunConfig
import XCTest

/// Shared pieces of the test targets that run training: tiny configs, scratch folders, and running the built
/// `vmae-train` / `vmae` binaries as a user would.
public enum TT {
    /// A model far smaller than vit-tiny (48k parameters) on 4×32×32 random clips: a step takes
    /// a millisecond, so whole runs fit in a unit test.
    public static func tinyTree(outputDir: String, steps: Int = 8, workers: Int = 0) -> [String: Any] {
        [
            "task": "pretrain",
            "seed": 7,
            "output_dir": outputDir,
            "model": ["preset": NSNull(), "encoder_embed_dim": 32, "encoder_depth": 2, "encoder_num_heads": 2,
                      "decoder_embed_dim": 16, "decoder_depth": 1, "decoder_num_heads": 2, "patch_size": 8] as [String: Any],
            "data": ["train_list": "random:16", "num_frames": 4, "input_size": 32, "num_workers": workers] as [String: Any],
            "optim": ["batch_size": 2, "max_steps": steps, "warmup_steps": 2, "lr": 1e-3, "min_lr": 1e-5] as [String: Any],
            "checkpoint": ["every_steps": 100, "keep_last": 3] as [String: Any],
            "log": ["every_steps": 1] as [String: Any],
        ]
    }

    /// A fresh, empty folder for one test (removed at the end of the test case).
    public static func scratch(_ name: String, _ test: XCTestCase) -> String {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("vmae-tt-\(getpid())-\(name)-\(UInt32.random(in: 0...UInt32.max))").path
        try? FileManager.default.removeItem(atPath: dir)
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// Writes a JSON config file and returns its path.
    @discardableResult
    public static func writeConfig(_ tree: [String: Any], to path: String) throws -> String {
        let d = try JSONSerialization.data(withJSONObject: tree, options: [.prettyPrinted, .sortedKeys])
        try d.write(to: URL(fileURLWithPath: path))
        return path
    }

    public static func config(_ tree: [String: Any], in dir: String, overrides: [String] = []) throws -> TrainConfig {
        let p = try writeConfig(tree, to: dir + "/config-in.json")
        return try TrainConfig.load(path: p, overrides: overrides)
    }

    // ---- the binaries ------------------------------------------------------------------------

    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// The built executable: next to the test bundle (the same build), else the package's
    /// .build/release (scripts/test.sh builds it before testing).
    public static func binary(_ name: String) throws -> String {
        var candidates: [String] = []
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        // …/release/vmaePackageTests.xctest (Linux: the test executable itself)
        var u = exe
        for _ in 0..<4 {
            u = u.deletingLastPathComponent()
            candidates.append(u.appendingPathComponent(name).path)
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name).path)
        candidates.append(packageRoot + "/.build/release/" + name)
        for c in candidates where FileManager.default.isExecutableFile(atPath: c) { return c }
        // a failure, not a skip: these tests must run in CI (scripts/test.sh builds first)
        XCTFail("\(name) is not built (run `swift build -c release` first; looked in \(candidates))")
        throw CocoaError(.fileNoSuchFile)
    }

    public struct Result {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        public let signalled: Bool
        public var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    }

    /// A started binary whose output goes to files (no pipe can fill up and block it).
    public final class Running {
        public let process = Process()
        public let outPath: String
        public let errPath: String

        /// `environment`: variables set on top of this process's (and OPENBLAS_NUM_THREADS=1).
        public init(_ binary: String, _ args: [String], scratch: String, environment: [String: String] = [:]) throws {
            let id = UUID().uuidString.prefix(8)
            outPath = scratch + "/proc-\(id).out"
            errPath = scratch + "/proc-\(id).err"
            _ = FileManager.default.createFile(atPath: outPath, contents: nil)
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = args
            process.standardOutput = FileHandle(forWritingAtPath: outPath)
            process.standardError = FileHandle(forWritingAtPath: errPath)
            process.standardInput = FileHandle.nullDevice
            var env = ProcessInfo.processInfo.environment
            env["OPENBLAS_NUM_THREADS"] = "1"
            env.merge(environment) { _, new in new }
            process.environment = env
            try process.run()
        }

        public var pid: Int32 { process.processIdentifier }
        public var stdoutSoFar: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
        public var stderrSoFar: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

        public func kill(_ sig: Int32) { Foundation.kill(process.processIdentifier, sig) }

        /// Waits for the exit (killing it after `timeout` seconds so a hang fails the test).
        public func wait(timeout: Double = 60) -> Result {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(2000) }
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return Result(status: process.terminationStatus,
                          stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                          stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
                          signalled: process.terminationReason == .uncaughtSignal)
        }
    }

    public static func run(_ name: String, _ args: [String], scratch: String, timeout: Double = 60) throws -> Result {
        try Running(try binary(name), args, scratch: scratch).wait(timeout: timeout)
    }

    // ---- checkpoints -------------------------------------------------------------------------

    public static func bytes(_ t: Tensor) -> Data { Data(bytes: t.data, count: t.count * MemoryLayout<Float>.size) }

    public static func allFinite(_ t: Tensor) -> Bool { (0..<t.count).allSatisfy { t[flat: $0].isFinite } }

    public static func checkpointFiles(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasPrefix("checkpoint-") && $0.hasSuffix(".h5") }.sorted()
    }

    public static func temporaries(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(".") && $0.contains(".h5.tmp-") }
    }
}

/// A test case that writes pictures into a fresh folder, `dir`, removed after each test unless
/// VMAE_KEEP_PICTURES is set (then its path is printed, to look at the PNGs).
open class PictureFolderTestCase: XCTestCase {
    public var dir: String = ""

    open override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "vmae-pictures-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    open override func tearDownWithError() throws {
        if ProcessInfo.processInfo.environment["VMAE_KEEP_PICTURES"] == nil {
            try? FileManager.default.removeItem(atPath: dir)
        } else {
            print("pictures kept in \(dir)")
        }
    }

    public func path(_ name: String) -> String { dir + "/" + name }
}
