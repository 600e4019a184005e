import CFFmpeg
import Foundation

/// Everything VideoIO throws: which file, what kind of failure, and a one-line reason.
/// `description` is meant to be shown to a user as is (`path: reason`).
public struct VideoError: Error, CustomStringConvertible, Equatable {
    public enum Kind: String, Equatable {
        case missingFile = "missing file"
        case emptyFile = "empty file"
        case notAVideo = "not a video or unknown format"
        case noVideoStream = "no video stream"
        case unsupported = "unsupported codec"
        case zeroFrames = "no frames"
        case corrupt = "corrupt or truncated"
        case timeout = "timeout"
        case invalidArgument = "invalid argument"
        case encoder = "encoding failed"
        case io = "I/O error"
        case image = "image error"
    }

    public let kind: Kind
    public let path: String
    public let reason: String

    public init(_ kind: Kind, path: String, _ reason: String) {
        self.kind = kind
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(kind.rawValue): \(reason)" }
}

/// FFmpeg's log: silenced by default (errors are kept and put into thrown `VideoError`s).
public enum FFmpegLog {
    private static let installed: Void = { vmae_av_capture_log() }()

    /// Called by every reader and writer; idempotent.
    public static func quietByDefault() { _ = installed }

    /// Let FFmpeg print again (`verbose: true`, level info) or silence it (`false`).
    public static func setVerbose(_ verbose: Bool) {
        quietByDefault()
        if verbose { vmae_av_default_log(AV_LOG_INFO) } else { vmae_av_capture_log() }
    }
}

/// Text for an FFmpeg error code, with the last message FFmpeg logged if there is one
/// (e.g. "Invalid data found when processing input (moov atom not found)").
func avErrorString(_ code: Int32) -> String {
    var buf = [CChar](repeating: 0, count: 256)
    vmae_av_err2str(code, &buf, buf.count)
    var s = String(cString: buf)
    let last = String(cString: vmae_av_last_log())
    if !last.isEmpty && !s.contains(last) { s += " (\(last))" }
    return s
}

/// Monotonic clock in seconds.
@inline(__always) func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) * 1e-9
}

/// Forgets FFmpeg's last logged error. All access to the shim's log buffer stays in this file: a
/// C `static inline` function (and its static buffer) is emitted once per Swift object file.
func clearFFmpegLastLog() { vmae_av_clear_last_log() }
