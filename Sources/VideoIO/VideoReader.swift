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
    public private(set) var fps: Double = 0
    public private(set) var width: Int = 0
    public private(set) var height: Int = 0
    public private(set) var durationSeconds: Double = 0
    public private(set) var frameCount: Int = 0
    public private(set) var frameCountSource: FrameCountSource = .container
    /// Decoder name (e.g. "h264", "mpeg4") and container name (e.g. "mov,mp4,m4a,3gp,3g2,mj2").
    public private(set) var codecName: String = ""
    public private(set) var formatName: String = ""

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
    public private(set) var stats = Stats()

    // FFmpeg state.
    private var fmt: UnsafeMutablePointer<AVFormatContext>?
    private var dec: UnsafeMutablePointer<AVCodecContext>?
    private var streamIndex: Int32 = -1
    private var sws: OpaquePointer?
    private let frame: UnsafeMutablePointer<AVFrame> = av_frame_alloc()
    private let last: UnsafeMutablePointer<AVFrame> = av_frame_alloc()
    private let rgb: UnsafeMutablePointer<AVFrame> = av_frame_alloc()
    private let pkt: UnsafeMutablePointer<AVPacket> = av_packet_alloc()
    private let box = DeadlineBox()

    // Stream timing.
    private var timeBase: Double = 0  // seconds per tick of the stream's time base
    private var startPTS: Int64 = 0
    private var useTimestamps = true

    // Decoding position.
    private var pending = false  // `frame` holds a decoded frame not handed out yet
    private var draining = false
    private var finished = false  // decoder fully drained: end of stream
    private var hasLast = false  // `last` references the most recently decoded frame
    private var lastIndex = -1  // index of the most recently decoded frame
    private var position = 0  // index the next decoded frame is expected to have
    private var justSeeked = false
    private var seekBroken = false  // seeking proved unreliable for this file: rewind instead
    private var mustReopen = false  // a timeout interrupted FFmpeg mid-read
    private var deadlineStarted = 0.0

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

    // MARK: - Opening

    private var stream: UnsafeMutablePointer<AVStream>? {
        guard let f = fmt, streamIndex >= 0, streamIndex < Int32(f.pointee.nb_streams) else { return nil }
        return f.pointee.streams[Int(streamIndex)]
    }

    private func openInput() throws -> UnsafeMutablePointer<AVFormatContext> {
        clearFFmpegLastLog()
        guard let ctx = avformat_alloc_context() else { throw VideoError(.io, path: path, "out of memory") }
        ctx.pointee.interrupt_callback = AVIOInterruptCB(
            callback: { opaque in
                guard let o = opaque else { return 0 }
                let box = Unmanaged<DeadlineBox>.fromOpaque(o).takeUnretainedValue()
                return monotonicSeconds() > box.at ? 1 : 0
            },
            opaque: Unmanaged.passUnretained(box).toOpaque())
        var p: UnsafeMutablePointer<AVFormatContext>? = ctx
        let r = avformat_open_input(&p, path, nil, nil)  // frees the context on failure
        if r < 0 {
            if expired { throw timeoutError() }
            throw VideoError(.notAVideo, path: path, "FFmpeg cannot open it: \(avErrorString(r))")
        }
        let r2 = avformat_find_stream_info(p, nil)
        if expired {
            avformat_close_input(&p)
            throw timeoutError()
        }
        _ = r2  // incomplete stream info is not fatal: decoding decides
        return p!
    }

    /// Opens the container and the decoder of its main video stream.
    private func open() throws {
        let f = try openInput()
        fmt = f
        var best = av_find_best_stream(f, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        if best >= 0 && isAttachedPicture(f.pointee.streams[Int(best)]!) { best = -1 }
        if best < 0 {
            for i in 0..<Int(f.pointee.nb_streams) {
                let s = f.pointee.streams[i]!
                if s.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO && !isAttachedPicture(s) {
                    best = Int32(i)
                    break
                }
            }
        }
        guard best >= 0 else {
            var audio = 0, other = 0
            for i in 0..<Int(f.pointee.nb_streams) {
                if f.pointee.streams[i]!.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO { audio += 1 } else { other += 1 }
            }
            if audio + other == 0 {
                throw VideoError(.zeroFrames, path: path, "the file holds no streams at all (an empty recording?)")
            }
            let what = audio > 0 ? "audio only (\(audio) audio stream\(audio == 1 ? "" : "s"))"
                : "\(other) stream\(other == 1 ? "" : "s"), none of them video"
            throw VideoError(.noVideoStream, path: path, what)
        }
        streamIndex = best
        try openDecoder()
    }

    private func isAttachedPicture(_ s: UnsafeMutablePointer<AVStream>) -> Bool {
        (s.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC) != 0
    }

    private func openDecoder() throws {
        guard let st = stream, let par = st.pointee.codecpar else {
            throw VideoError(.corrupt, path: path, "video stream missing")
        }
        let id = par.pointee.codec_id
        guard let codec = avcodec_find_decoder(id) else {
            throw VideoError(.unsupported, path: path,
                             "no decoder for codec '\(String(cString: avcodec_get_name(id)))' in this FFmpeg")
        }
        guard let ctx = avcodec_alloc_context3(codec) else { throw VideoError(.io, path: path, "out of memory") }
        dec = ctx
        var r = avcodec_parameters_to_context(ctx, par)
        guard r >= 0 else { throw VideoError(.corrupt, path: path, "bad codec parameters: \(avErrorString(r))") }
        ctx.pointee.thread_count = Int32(threads)
        ctx.pointee.pkt_timebase = st.pointee.time_base
        r = avcodec_open2(ctx, codec, nil)
        guard r >= 0 else {
            throw VideoError(.unsupported, path: path,
                             "cannot open decoder '\(String(cString: codec.pointee.name))': \(avErrorString(r))")
        }
    }

    private func closeContexts() {
        if dec != nil { avcodec_free_context(&dec) }
        if fmt != nil { avformat_close_input(&fmt) }
    }

    private static func frameRate(_ st: UnsafeMutablePointer<AVStream>) -> Double {
        for r in [st.pointee.avg_frame_rate, st.pointee.r_frame_rate] {
            let f = q2d(r)
            if f.isFinite && f > 0 && f <= 1000 { return f }
        }
        return 25  // neither is known: FFmpeg's own default guess
    }

    // MARK: - Decoding

    /// Decodes the next frame into `frame`; false at the end of the stream.
    private func decodeNext() throws -> Bool {
        if pending {
            pending = false
            return true
        }
        if finished { return false }
        guard fmt != nil, dec != nil else {
            throw VideoError(.io, path: path, "the reader lost its file (after a timeout?)")
        }
        var errorsInARow = 0
        while true {
            let r = avcodec_receive_frame(dec, frame)
            if r == 0 {
                stats.decodedFrames += 1
                return true
            }
            if r == vmae_AVERROR_EOF() {
                finished = true
                return false
            }
            if r != vmae_AVERROR_EAGAIN() {
                stats.decodeErrors += 1
                errorsInARow += 1
                if errorsInARow > 64 {
                    finished = true
                    return false
                }
                continue
            }
            if draining {
                finished = true
                return false
            }
            try checkDeadline()
            let rr = av_read_frame(fmt, pkt)
            if rr < 0 {
                if expired {
                    mustReopen = true
                    throw timeoutError()
                }
                _ = avcodec_send_packet(dec, nil)  // end of file or unreadable: drain the decoder
                draining = true
                continue
            }
            if pkt.pointee.stream_index == streamIndex {
                stats.packets += 1
                if avcodec_send_packet(dec, pkt) < 0 { stats.decodeErrors += 1 }
            }
            av_packet_unref(pkt)
        }
    }

    /// The index of the frame just decoded; remembers it as the last frame.
    private func registerDecoded() -> Int {
        let ts = frame.pointee.best_effort_timestamp
        var k: Int
        if useTimestamps && ts != vmae_AV_NOPTS_VALUE() {
            k = clampedInt((Double(ts) - Double(startPTS)) * timeBase * fps, fallback: lastIndex + 1)
        } else {
            k = lastIndex + 1
        }
        if k < 0 { k = 0 }
        lastIndex = k
        position = k + 1
        av_frame_unref(last)
        hasLast = av_frame_ref(last, frame) >= 0
        return k
    }

    /// Puts the decoder where decoding forward reaches `target` soonest.
    private func moveTowards(_ target: Int) throws {
        if mustReopen || fmt == nil || dec == nil {
            try rewind(reopen: true)
        }
        let canSeek = useTimestamps && !seekBroken
        if target < position {
            if canSeek && target > 0 { try seek(to: target) } else { try rewind() }
        } else if target - position > seekThreshold && canSeek {
            try seek(to: target)
        }
    }

    private func resetDecodingState() {
        pending = false
        draining = false
        finished = false
        av_frame_unref(last)
        hasLast = false
        lastIndex = -1
    }

    /// Seeks to the keyframe at or before frame `target`.
    private func seek(to target: Int) throws {
        let ticks = (Double(target) - 0.5) / fps / timeBase
        let ts = startPTS &+ Int64(clampedInt(ticks.rounded(.down), fallback: 0).clamped(0, 1 << 60))
        stats.seeks += 1
        clearFFmpegLastLog()
        let r = av_seek_frame(fmt, streamIndex, ts, AVSEEK_FLAG_BACKWARD)
        if r < 0 {
            if expired {
                mustReopen = true
                throw timeoutError()
            }
            seekBroken = true
            try rewind()
            return
        }
        avcodec_flush_buffers(dec)
        resetDecodingState()
        position = target
        justSeeked = true
    }

    /// Back to frame 0: a seek to the start when timestamps are trusted, else reopening the file.
    private func rewind(reopen: Bool = false) throws {
        stats.rewinds += 1
        justSeeked = false
        if !reopen && !mustReopen && useTimestamps && !seekBroken {
            if av_seek_frame(fmt, streamIndex, startPTS, AVSEEK_FLAG_BACKWARD) >= 0
                || avformat_seek_file(fmt, -1, Int64.min, 0, 0, 0) >= 0 {
                avcodec_flush_buffers(dec)
                resetDecodingState()
                position = 0
                return
            }
        }
        closeContexts()
        resetDecodingState()
        mustReopen = true  // until the file is open again (a timeout may strike in between)
        let f = try openInput()
        fmt = f
        guard streamIndex < Int32(f.pointee.nb_streams),
              f.pointee.streams[Int(streamIndex)]!.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO else {
            throw VideoError(.corrupt, path: path, "the video stream is gone after reopening")
        }
        try openDecoder()
        mustReopen = false
        position = 0
    }

    private func countPackets() throws -> Int {
        let f = try openInput()
        var p: UnsafeMutablePointer<AVFormatContext>? = f
        defer { avformat_close_input(&p) }
        let packet = av_packet_alloc()
        defer {
            var q = packet
            av_packet_free(&q)
        }
        var n = 0
        while av_read_frame(f, packet) >= 0 {
            if packet!.pointee.stream_index == streamIndex { n += 1 }
            av_packet_unref(packet)
            if n & 255 == 0 { try checkDeadline() }
        }
        if expired { throw timeoutError() }
        return n
    }

    // MARK: - Conversion

    private func checkSize(_ w: Int, _ h: Int) throws {
        guard w > 0, h > 0, w <= 16384, h <= 16384 else {
            throw VideoError(.invalidArgument, path: path, "output size \(w)×\(h) is not in 1...16384")
        }
    }

    /// Bilinear resizing; accurate rounding and full-resolution chroma interpolation: without them
    /// swscale's fast YUV → RGB path is biased by 1–3 levels (more when upscaling).
    static let swsFlags = SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT

    /// Converts (and resizes) `src` to RGB24, tightly packed, at `dst`.
    private func convert(_ src: UnsafeMutablePointer<AVFrame>, into dst: UnsafeMutablePointer<UInt8>,
                         width w: Int, height h: Int) throws {
        let sw = src.pointee.width, sh = src.pointee.height
        guard sw > 0, sh > 0, src.pointee.format >= 0 else {
            throw VideoError(.corrupt, path: path, "decoded frame has no picture")
        }
        sws = sws_getCachedContext(sws, sw, sh, AVPixelFormat(src.pointee.format),
                                   Int32(w), Int32(h), AV_PIX_FMT_RGB24, Self.swsFlags, nil, nil, nil)
        guard sws != nil else {
            let name = av_get_pix_fmt_name(AVPixelFormat(src.pointee.format)).map { String(cString: $0) } ?? "?"
            throw VideoError(.unsupported, path: path, "cannot convert pixel format \(name) to RGB")
        }
        if rgb.pointee.width != Int32(w) || rgb.pointee.height != Int32(h) || rgb.pointee.buf.0 == nil {
            av_frame_unref(rgb)
            rgb.pointee.width = Int32(w)
            rgb.pointee.height = Int32(h)
            rgb.pointee.format = AV_PIX_FMT_RGB24.rawValue
        }
        let r = sws_scale_frame(sws, rgb, src)
        guard r >= 0 else { throw VideoError(.corrupt, path: path, "pixel conversion failed: \(avErrorString(r))") }
        stats.convertedFrames += 1
        let row = w * 3
        let stride = Int(rgb.pointee.linesize.0)
        guard let plane = rgb.pointee.data.0 else { throw VideoError(.corrupt, path: path, "pixel conversion failed") }
        if stride == row {
            dst.update(from: plane, count: row * h)
        } else {
            for y in 0..<h { (dst + y * row).update(from: plane + y * stride, count: row) }
        }
    }

    // MARK: - Deadline

    private func beginDeadline() {
        deadlineStarted = monotonicSeconds()
        box.at = deadline.map { deadlineStarted + max(0, $0) } ?? .infinity
    }

    private func endDeadline() { box.at = .infinity }

    private var expired: Bool { monotonicSeconds() > box.at }

    private func checkDeadline() throws {
        if expired { throw timeoutError() }
    }

    private func timeoutError() -> VideoError {
        let d = deadline ?? 0
        return VideoError(.timeout, path: path,
                          "decoding took longer than the deadline of \(String(format: "%g", d)) s")
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
