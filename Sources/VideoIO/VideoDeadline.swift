import CFFmpeg
import Foundation

// The decoding deadline: FFmpeg's blocking calls are interrupted once it has passed.
extension VideoReader {
    func beginDeadline() {
        deadlineStarted = monotonicSeconds()
        box.at = deadline.map { deadlineStarted + max(0, $0) } ?? .infinity
    }

    func endDeadline() { box.at = .infinity }

    var expired: Bool { monotonicSeconds() > box.at }

    func checkDeadline() throws {
        if expired { throw timeoutError() }
    }

    func timeoutError() -> VideoError {
        let d = deadline ?? 0
        return VideoError(.timeout, path: path,
                          "decoding took longer than the deadline of \(String(format: "%g", d)) s")
    }
}
