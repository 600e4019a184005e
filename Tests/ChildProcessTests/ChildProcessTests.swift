import ChildProcess
import Foundation
import XCTest

/// A child with a deadline: each way a child can end is told apart, and a late one is killed.
final class ChildProcessTests: XCTestCase {
    func testAnExitStatusIsReported() {
        XCTAssertEqual(ChildProcess.run("/bin/sh", arguments: ["-c", "exit 0"], timeout: 10), .exited(0))
        XCTAssertEqual(ChildProcess.run("/bin/sh", arguments: ["-c", "exit 3"], timeout: 10), .exited(3))
    }

    func testTheChildsStdoutCanBeCaptured() {
        let (end, out) = ChildProcess.runCapturing("/bin/sh", arguments: ["-c", "echo one line; echo to stderr >&2; exit 3"], timeout: 10)
        XCTAssertEqual(end, .exited(3))
        XCTAssertEqual(out, "one line\n")
        let (late, none) = ChildProcess.runCapturing("/bin/sleep", arguments: ["30"], timeout: 0.3)
        XCTAssertEqual(late, .timedOut(0.3))
        XCTAssertEqual(none, "")
    }

    func testACrashIsReportedAsItsSignal() {
        let end = ChildProcess.run("/bin/sh", arguments: ["-c", "kill -SEGV $$"], timeout: 10)
        XCTAssertEqual(end, .signaled(SIGSEGV))
        XCTAssertEqual("\(end)", "killed by signal 11 (SIGSEGV)")
    }

    func testALateChildIsKilledAtTheDeadline() {
        let start = Date()
        let end = ChildProcess.run("/bin/sleep", arguments: ["30"], timeout: 0.5)
        let took = Date().timeIntervalSince(start)
        XCTAssertEqual(end, .timedOut(0.5))
        XCTAssertLessThan(took, 5, "the child was not killed at its deadline")
        XCTAssertGreaterThanOrEqual(took, 0.5)
    }

    func testAProgramThatIsNotThereIsNotStarted() {
        guard case .notStarted = ChildProcess.run("/nonexistent/program", arguments: [], timeout: 5) else {
            return XCTFail("a missing program was reported as started")
        }
    }

    /// The child sees the extra environment, has /dev/null for stderr (nothing reaches the
    /// user) and runs in its own process group.
    func testTheChildGetsTheEnvironmentItsOwnGroupAndNoTerminalOutput() throws {
        let dir = NSTemporaryDirectory() + "/childprocess-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "echo \"$VMAE_CHILD_TEST\" > \(dir)/env; cut -d\" \" -f5 /proc/$$/stat > \(dir)/pgid; readlink /proc/$$/fd/2 > \(dir)/stdout"
        XCTAssertEqual(ChildProcess.run("/bin/sh", arguments: ["-c", script], timeout: 10,
                                        environment: ["VMAE_CHILD_TEST": "seen"]), .exited(0))
        func read(_ n: String) throws -> String { try String(contentsOfFile: dir + "/" + n, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
        XCTAssertEqual(try read("env"), "seen")
        XCTAssertEqual(try read("stdout"), "/dev/null")
        XCTAssertNotEqual(try read("pgid"), "\(getpgrp())", "the child shares this process's group")
    }
}
