import ExitStatus
import Foundation
import XCTest

/// The one progress display: a bar with ETA on a terminal, sparse plain lines in a log.
final class ProgressBarTests: XCTestCase {
    final class Sink { var text = "" }

    func testTerminalRedrawsOneLineWithETAAndEndsWithANewline() {
        let sink = Sink()
        let bar = ProgressBar(total: 4, label: "predict: videos", isTTY: true, write: { sink.text += $0 })
        bar.update(1, detail: "a.mp4")
        XCTAssertTrue(sink.text.hasPrefix("\r██████··················"), sink.text)
        XCTAssertTrue(sink.text.contains("predict: videos 1/4  eta 0m00s  a.mp4"), sink.text)
        bar.update(2)
        bar.finish()
        XCTAssertFalse(sink.text.dropLast().contains("\n"), "redrawn in place")
        XCTAssertTrue(sink.text.hasSuffix("\u{1B}[K\n"))
        XCTAssertTrue(sink.text.contains("████████████████████████ predict: videos 4/4  0m00s"), sink.text)
    }

    func testALogGetsAPlainLineEveryPeriodAndAClosingLineOnlyAfterThem() {
        let quick = Sink()
        let q = ProgressBar(total: 3, label: "synth: clips", every: 3600, isTTY: false, write: { quick.text += $0 })
        for i in 1...3 { q.update(i) }
        q.finish()
        XCTAssertEqual(quick.text, "", "a job done within the period leaves no progress line")

        let slow = Sink()
        let s = ProgressBar(total: 3, label: "synth: clips", every: 0, isTTY: false, write: { slow.text += $0 })
        s.update(1)
        s.update(2)
        s.finish()
        let lines = slow.text.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, slow.text)
        XCTAssertTrue(lines[0].hasPrefix("synth: clips 1/3  eta "), String(lines[0]))
        XCTAssertFalse(slow.text.contains("\r") || slow.text.contains("█"), "no bar in a log")
        XCTAssertTrue(lines[2].hasPrefix("synth: clips 3/3  "), String(lines[2]))
    }

    func testDurationAndBar() {
        XCTAssertEqual(ProgressBar.duration(187), "3m07s")
        XCTAssertEqual(ProgressBar.duration(3900), "1h05m")
        XCTAssertEqual(ProgressBar.bar(1, of: 2, width: 4), "██··")
        XCTAssertEqual(ProgressBar.bar(0, of: 0, width: 2), "██")
    }
}
