import CFFmpeg
import Foundation

/// Where `VideoReader.frameCount` came from.
public enum FrameCountSource: String {
    /// The container stores the number of frames (`nb_frames`: mp4, mov, avi).
    case container
    /// Estimated as duration × fps, rounded (mkv, webm: no stored count).
    case duration
    /// Counted by demuxing every packet of the video stream (neither a count nor a duration
    /// is stored, e.g. raw .h264 / .m4v streams; or `countFrames()` was called).
    case counted
    /// Corrected after decoding reached the end of the stream (the true number of decodable frames).
    case decoded
}

/// Holds the absolute time (monotonic seconds) after which FFmpeg's blocking calls are interrupted.
final class DeadlineBox {
    var at: Double = .infinity
}

/// Reads frames of one video stream with libavformat/libavcodec and converts them to RGB24 with
/// libswscale. Any container and codec that this FFmpeg build can demux and decode work.
///
/// Frame indices: frame `i` is the frame shown at `start + i / fps`, where `start` is the
/// timestamp of the first decodable frame. The index of a decoded frame is derived from its
/// timestamp, which is what makes seeking possible; streams without timestamps are numbered
/// in decoding order and are never seeked (they are rewound and decoded forward instead).
///
/// `frameCount` comes from the container's frame count, else from duration × fps, else from
/// demuxing every packet (see `FrameCountSource`). When decoding reaches the end of the stream,
/// `frameCount` is corrected to the number of frames actually decodable; frames asked for past
/// the real end (a stale header, a truncated file) are given the last decodable frame, as a
/// loader clipping indices to `len - 1` would.
///
/// Not thread-safe: one reader per thread. Errors are `VideoError`s; FFmpeg's log is silenced.
public final class VideoReader {
    public let path: String
    public internal(set) var fps: Double = 0
    public internal(set) var width: Int = 0
    public internal(set) var height: Int = 0
    public internal(set) var durationSeconds: Double = 0
    public internal(set) var frameCount: Int = 0
    public internal(set) var frameCountSource: FrameCountSource = .container
    /// Decoder name (e.g. "h264", "mpeg4") and container name (e.g. "mov,mp4,m4a,3gp,3g2,mj2").
    public internal(set) var codecName: String = ""
    public internal(set) var formatName: String = ""

    /// Seconds any one call (the opening `init`, `frames`, `readAll`, `countFrames`) may take
    /// before it throws `VideoError.Kind.timeout`; nil = no limit. Checked between packets and,
    /// through FFmpeg's interrupt callback, inside blocking reads.
    public var deadline: Double?
    /// A wanted frame more than this many frames ahead of the decoder's position is reached by
    /// seeking (to the keyframe before it) instead of decoding forward.
    public var seekThreshold: Int = 16
    /// Decoder threads (1 by default: data loaders run one reader per worker).
    public let threads: Int

    public struct Stats: Equatable {
        public var packets = 0, decodedFrames = 0, convertedFrames = 0, seeks = 0, rewinds = 0, decodeErrors = 0
    }
    /// What the reader has done so far (for tests and diagnostics).
    public internal(set) var stats = Stats()

    // FFmpeg state.
    var fmt: UnsafeMutablePointer<AVFormatContext>?
    var dec: UnsafeMutablePointer<AVCodecContext>?
    var streamIndex: Int32 = -1
    var sws: OpaquePointer?
    let frame: UnsafeMutablePointer<AVFrame> = av_frame_alloc()
    let last: UnsafeMutablePointer<AVFrame> = av_frame_alloc()
    let rgb: UnsafeMutablePointer<AVFrame> = av_frame_alloc()
    let pkt: UnsafeMutablePointer<AVPacket> = av_packet_alloc()
    let box = DeadlineBox()

    // Stream timing.
    var timeBase: Double = 0  // seconds per tick of the stream's time base
    var startPTS: Int64 = 0
    var useTimestamps = true

    // Decoding position.
    var pending = false  // `frame` holds a decoded frame not handed out yet
    var draining = false
    var finished = false  // decoder fully drained: end of stream
    var hasLast = false  // `last` references the most recently decoded frame
    var lastIndex = -1  // index of the most recently decoded frame
    var position = 0  // index the next decoded frame is expected to have
    var justSeeked = false
    var seekBroken = false  // seeking proved unreliable for this file: rewind instead
    var mustReopen = false  // a timeout interrupted FFmpeg mid-read
    var deadlineStarted = 0.0

    /// Opens `path` (a file, or any URL FFmpeg's protocols accept), picks its main video stream,
    /// and decodes the first frame to prove the stream is readable.
    public init(path: String, deadline: Double? = nil, threads: Int = 1) throws {
        self.path = path
        self.deadline = deadline
        self.threads = Swift.min(64, Swift.max(1, threads))
        FFmpegLog.quietByDefault()
        if !path.contains("://") {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                throw VideoError(.missingFile, path: path, "no such file")
            }
            if isDir.boolValue { throw VideoError(.notAVideo, path: path, "is a directory") }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)??.int64Value ?? -1
            if size == 0 { throw VideoError(.emptyFile, path: path, "file is empty (0 bytes)") }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw VideoError(.io, path: path, "file is not readable")
            }
        }
        beginDeadline()
        defer { endDeadline() }
        try open()

        guard let st = stream else { throw VideoError(.corrupt, path: path, "stream vanished") }
        let par = st.pointee.codecpar!
        codecName = String(cString: avcodec_get_name(par.pointee.codec_id))
        formatName = String(cString: fmt!.pointee.iformat.pointee.name)
        timeBase = q2d(st.pointee.time_base)
        fps = Self.frameRate(st)

        // Decode the first frame: proves the file is readable and fixes where frame 0 is.
        guard try decodeNext() else {
            if stats.packets == 0 {
                let promised = st.pointee.nb_frames > 0 ? Int(st.pointee.nb_frames)
                    : (st.pointee.duration != vmae_AV_NOPTS_VALUE() && st.pointee.duration > 0 ? 1 : 0)
                    + (fmt!.pointee.duration != vmae_AV_NOPTS_VALUE() && fmt!.pointee.duration > 0 ? 1 : 0)
                if promised > 0 {
                    throw VideoError(.corrupt, path: path, "the header promises frames but no packet is readable (truncated?)")
                }
                throw VideoError(.zeroFrames, path: path, "the video stream has no frames")
            }
            throw VideoError(.corrupt, path: path,
                             "no decodable frame in \(stats.packets) packets (\(stats.decodeErrors) decoding errors)")
        }
        pending = true
        position = 0
        let ts = frame.pointee.best_effort_timestamp
        if ts == vmae_AV_NOPTS_VALUE() || timeBase <= 0 {
            useTimestamps = false
        } else {
            startPTS = ts
        }
        width = Int(par.pointee.width) > 0 ? Int(par.pointee.width) : Int(frame.pointee.width)
        height = Int(par.pointee.height) > 0 ? Int(par.pointee.height) : Int(frame.pointee.height)
        if width <= 0 || height <= 0 {
            width = Int(frame.pointee.width)
            height = Int(frame.pointee.height)
        }

        // Frame count: container → duration × fps → demuxed packets.
        var duration: Double? = nil
        if st.pointee.duration != vmae_AV_NOPTS_VALUE() && st.pointee.duration > 0 && timeBase > 0 {
            duration = Double(st.pointee.duration) * timeBase
        } else if fmt!.pointee.duration != vmae_AV_NOPTS_VALUE() && fmt!.pointee.duration > 0 {
            duration = Double(fmt!.pointee.duration) / Double(vmae_AV_TIME_BASE())
        }
        if st.pointee.nb_frames > 0 {
            frameCount = Int(st.pointee.nb_frames)
            frameCountSource = .container
        } else if let d = duration, clampedInt(d * fps) > 0 {
            frameCount = clampedInt(d * fps)
            frameCountSource = .duration
        } else {
            frameCount = max(1, try countPackets())
            frameCountSource = .counted
        }
        durationSeconds = duration ?? Double(frameCount) / fps
    }

    deinit {
        closeContexts()
        var f: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&f)
        f = last
        av_frame_free(&f)
        f = rgb
        av_frame_free(&f)
        var p: UnsafeMutablePointer<AVPacket>? = pkt
        av_packet_free(&p)
        if let s = sws { sws_freeContext(s) }
    }

    // MARK: - Public reading

    /// RGB24 frames at the given indices, in the order asked (duplicates allowed), each resized
    /// (bilinear, no crop: the caller keeps the aspect ratio) to `width` × `height` (default: the
    /// video's own size). Layout: count × height × width × 3. Indices must be in 0..<frameCount.
    /// Frames are decoded forward from the current position; a wanted frame behind it, or more
    /// than `seekThreshold` frames ahead, is reached by seeking to the keyframe before it.
    public func frames(_ indices: [Int], width: Int? = nil, height: Int? = nil) throws -> [UInt8] {
        let ow = width ?? self.width, oh = height ?? self.height
        try checkSize(ow, oh)
        if indices.isEmpty { return [] }
        for i in indices where i < 0 || i >= frameCount {
            throw VideoError(.invalidArgument, path: path, "frame index \(i) out of range 0..<\(frameCount)")
        }
        beginDeadline()
        defer { endDeadline() }

        let uniq = Array(Set(indices)).sorted()
        let fs = ow * oh * 3
        var buf = [UInt8](repeating: 0, count: uniq.count * fs)
        try buf.withUnsafeMutableBufferPointer { bp in
            let base = bp.baseAddress!
            var filled = 0
            while filled < uniq.count {
                let target = uniq[filled]
                try moveTowards(target)
                var reached = false
                while !reached {
                    guard try decodeNext() else { break }
                    let k = registerDecoded()
                    if justSeeked {
                        justSeeked = false
                        if k > target {  // the seek landed after the frame wanted: stop trusting seeks
                            seekBroken = true
                            try rewind()
                            break
                        }
                    }
                    if k < target { continue }
                    try convert(frame, into: base + filled * fs, width: ow, height: oh)
                    filled += 1
                    while filled < uniq.count && uniq[filled] <= k {
                        (base + filled * fs).update(from: base + (filled - 1) * fs, count: fs)
                        filled += 1
                    }
                    reached = true
                }
                if reached || !finished { continue }
                // End of stream before `target`.
                if justSeeked && !seekBroken {
                    // Nothing decodable after the seek point: fall back to decoding from the start.
                    justSeeked = false
                    seekBroken = true
                    try rewind()
                    continue
                }
                guard hasLast else {
                    throw VideoError(.corrupt, path: path, "no decodable frame at or after index \(target)")
                }
                frameCount = lastIndex + 1  // the true end
                frameCountSource = .decoded
                try convert(last, into: base + filled * fs, width: ow, height: oh)
                filled += 1
                while filled < uniq.count {
                    (base + filled * fs).update(from: base + (filled - 1) * fs, count: fs)
                    filled += 1
                }
            }
        }
        if uniq == indices { return buf }
        var slot = [Int: Int]()
        for (s, i) in uniq.enumerated() { slot[i] = s }
        var out = [UInt8](repeating: 0, count: indices.count * fs)
        out.withUnsafeMutableBufferPointer { op in
            buf.withUnsafeBufferPointer { bp in
                for (j, i) in indices.enumerated() {
                    (op.baseAddress! + j * fs).update(from: bp.baseAddress! + slot[i]! * fs, count: fs)
                }
            }
        }
        return out
    }

    /// Every decodable frame from the start, RGB24 (count × height × width × 3). Sets
    /// `frameCount` to the number of frames decoded.
    public func readAll(width: Int? = nil, height: Int? = nil) throws -> (count: Int, rgb: [UInt8]) {
        let ow = width ?? self.width, oh = height ?? self.height
        try checkSize(ow, oh)
        beginDeadline()
        defer { endDeadline() }
        if !(pending && position == 0) || fmt == nil || dec == nil {
            try rewind(reopen: !useTimestamps || seekBroken || fmt == nil || dec == nil)
        }
        let fs = ow * oh * 3
        var out = [UInt8]()
        out.reserveCapacity(min(frameCount, 256) * fs)  // a corrupt header may claim billions
        var n = 0
        while try decodeNext() {
            _ = registerDecoded()
            out.append(contentsOf: repeatElement(0, count: fs))
            try out.withUnsafeMutableBufferPointer { op in
                try convert(frame, into: op.baseAddress! + n * fs, width: ow, height: oh)
            }
            n += 1
        }
        if n == 0 { throw VideoError(.corrupt, path: path, "no decodable frame") }
        frameCount = n
        frameCountSource = .decoded
        return (n, out)
    }

    /// Counts the frames by demuxing every packet of the video stream (no decoding), sets
    /// `frameCount` to it and returns it. Exact for files whose header count is missing or wrong.
    @discardableResult
    public func countFrames() throws -> Int {
        beginDeadline()
        defer { endDeadline() }
        let n = try countPackets()
        if n > 0 {
            frameCount = n
            frameCountSource = .counted
        }
        return n
    }
}

/// `x` rounded to an Int, limited to ±2^53 (a corrupt timestamp or duration must not trap).
@inline(__always) func clampedInt(_ x: Double, fallback: Int = 0) -> Int {
    guard x.isFinite else { return fallback }
    return Int(max(-9.0e15, min(9.0e15, x)).rounded())
}

extension Int {
    @inline(__always) func clamped(_ lo: Int, _ hi: Int) -> Int { Swift.min(hi, Swift.max(lo, self)) }
}

@inline(__always) func q2d(_ r: AVRational) -> Double {
    r.den == 0 ? 0 : Double(r.num) / Double(r.den)
}
