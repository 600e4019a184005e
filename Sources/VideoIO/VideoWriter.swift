import CFFmpeg
import Foundation

/// Writes RGB24 frames to a video file with libavformat/libavcodec. The container follows the
/// file's extension (.mp4, .mov, .mkv, .avi, …).
///
/// Encoder: `.auto` picks libx264 (H.264, yuv420p, preset veryfast, crf 18) for mp4/mov/mkv when
/// this FFmpeg has it and falls back to FFmpeg's own mpeg4 (qscale 3); .avi gets mpeg4.
/// `encoderName` tells which one is in use. Width and height must be even (4:2:0 chroma).
/// `close()` flushes the encoder and writes the trailer: no frame is lost. A writer dropped
/// without `close()` closes itself, ignoring errors.
public final class VideoWriter {
    public enum Codec: String {
        case auto, h264, mpeg4, mjpeg
    }

    public let path: String
    public let width: Int
    public let height: Int
    public let fps: Double
    /// The FFmpeg encoder in use, e.g. "libx264" or "mpeg4".
    public private(set) var encoderName = ""
    public private(set) var framesWritten = 0

    private var oc: UnsafeMutablePointer<AVFormatContext>?
    private var enc: UnsafeMutablePointer<AVCodecContext>?
    private var stream: UnsafeMutablePointer<AVStream>?
    private var sws: OpaquePointer?
    private let yuv: UnsafeMutablePointer<AVFrame> = av_frame_alloc()
    private let src: UnsafeMutablePointer<AVFrame> = av_frame_alloc()
    private let pkt: UnsafeMutablePointer<AVPacket> = av_packet_alloc()
    private var headerWritten = false
    private var closed = false

    /// - Parameters:
    ///   - quality: crf for libx264 (0 = lossless … 51; default 18), qscale for mpeg4/mjpeg
    ///     (2 = best … 31; default 3).
    ///   - gop: frames between keyframes (shorter = faster random access when reading).
    public init(path: String, width: Int, height: Int, fps: Double, codec: Codec = .auto,
                quality: Int? = nil, gop: Int = 12, threads: Int = 1) throws {
        self.path = path
        self.width = width
        self.height = height
        self.fps = fps
        FFmpegLog.quietByDefault()
        guard width > 0, height > 0, width <= 16384, height <= 16384 else {
            throw VideoError(.invalidArgument, path: path, "frame size \(width)×\(height) is not in 1...16384")
        }
        guard width % 2 == 0, height % 2 == 0 else {
            throw VideoError(.invalidArgument, path: path, "frame size \(width)×\(height): width and height must be even")
        }
        guard fps.isFinite, fps > 0, fps <= 1000 else {
            throw VideoError(.invalidArgument, path: path, "fps \(fps) is not in (0, 1000]")
        }
        clearFFmpegLastLog()
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        let r0 = avformat_alloc_output_context2(&ctx, nil, nil, path)
        guard r0 >= 0, let oc = ctx else {
            throw VideoError(.invalidArgument, path: path,
                             "no container format for extension '.\((path as NSString).pathExtension)'")
        }
        self.oc = oc
        let formatName = String(cString: oc.pointee.oformat.pointee.name)

        var candidates: [String]
        switch codec {
        case .auto:
            if formatName.contains("avi") { candidates = ["mpeg4"] }
            else if formatName.contains("webm") { candidates = ["libvpx", "libvpx-vp9"] }  // webm takes VP8/VP9 only
            else { candidates = ["libx264", "mpeg4"] }
        case .h264: candidates = ["libx264", "mpeg4"]
        case .mpeg4: candidates = ["mpeg4"]
        case .mjpeg: candidates = ["mjpeg"]
        }
        let framerate = av_d2q(fps, 65535)
        var lastError = "no encoder available"
        for name in candidates {
            guard let c = avcodec_find_encoder_by_name(name) else {
                lastError = "encoder \(name) not in this FFmpeg"
                continue
            }
            if avformat_query_codec(oc.pointee.oformat, c.pointee.id, FF_COMPLIANCE_NORMAL) == 0 {
                lastError = "\(name) cannot go into \(formatName)"
                continue
            }
            guard let e = avcodec_alloc_context3(c) else { continue }
            e.pointee.width = Int32(width)
            e.pointee.height = Int32(height)
            e.pointee.framerate = framerate
            e.pointee.time_base = av_inv_q(framerate)
            e.pointee.gop_size = Int32(min(100_000, max(1, gop)))
            e.pointee.thread_count = Int32(min(64, max(1, threads)))
            if name == "mjpeg" {
                e.pointee.pix_fmt = AV_PIX_FMT_YUVJ420P
                e.pointee.color_range = AVCOL_RANGE_JPEG
            } else {
                e.pointee.pix_fmt = AV_PIX_FMT_YUV420P
            }
            if name == "libx264" {
                _ = av_opt_set(e.pointee.priv_data, "preset", "veryfast", 0)
                _ = av_opt_set(e.pointee.priv_data, "crf", String(quality ?? 18), 0)
            } else if name.hasPrefix("libvpx") {
                e.pointee.bit_rate = 4_000_000   // the cap crf works under
                _ = av_opt_set(e.pointee.priv_data, "crf", String(quality ?? 10), 0)
                _ = av_opt_set(e.pointee.priv_data, "deadline", "realtime", 0)
                _ = av_opt_set(e.pointee.priv_data, "cpu-used", "8", 0)
            } else {
                e.pointee.flags |= AV_CODEC_FLAG_QSCALE
                e.pointee.global_quality = Int32(FF_QP2LAMBDA) * Int32(max(1, min(31, quality ?? 3)))
            }
            if (oc.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER) != 0 {
                e.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
            }
            let r = avcodec_open2(e, c, nil)
            if r < 0 {
                lastError = "cannot open encoder \(name): \(avErrorString(r))"
                var ee: UnsafeMutablePointer<AVCodecContext>? = e
                avcodec_free_context(&ee)
                continue
            }
            enc = e
            encoderName = name
            break
        }
        guard let enc = enc else { throw VideoError(.encoder, path: path, lastError) }

        guard let st = avformat_new_stream(oc, nil) else { throw VideoError(.io, path: path, "out of memory") }
        stream = st
        st.pointee.time_base = enc.pointee.time_base
        st.pointee.avg_frame_rate = framerate
        var r = avcodec_parameters_from_context(st.pointee.codecpar, enc)
        guard r >= 0 else { throw VideoError(.encoder, path: path, avErrorString(r)) }

        if (oc.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 {
            r = avio_open(&oc.pointee.pb, path, AVIO_FLAG_WRITE)
            guard r >= 0 else { throw VideoError(.io, path: path, "cannot create the file: \(avErrorString(r))") }
        }
        r = avformat_write_header(oc, nil)
        guard r >= 0 else { throw VideoError(.io, path: path, "cannot write the header: \(avErrorString(r))") }
        headerWritten = true

        sws = sws_getContext(Int32(width), Int32(height), AV_PIX_FMT_RGB24, Int32(width), Int32(height),
                             enc.pointee.pix_fmt, SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, nil, nil, nil)
        guard sws != nil else { throw VideoError(.encoder, path: path, "no RGB → YUV conversion") }
        yuv.pointee.format = enc.pointee.pix_fmt.rawValue
        yuv.pointee.width = Int32(width)
        yuv.pointee.height = Int32(height)
        if enc.pointee.pix_fmt == AV_PIX_FMT_YUVJ420P { yuv.pointee.color_range = AVCOL_RANGE_JPEG }
        r = av_frame_get_buffer(yuv, 0)
        guard r >= 0 else { throw VideoError(.io, path: path, "out of memory") }
    }

    deinit {
        try? close()
        release()
        var f: UnsafeMutablePointer<AVFrame>? = yuv
        av_frame_free(&f)
        f = src
        av_frame_free(&f)
        var p: UnsafeMutablePointer<AVPacket>? = pkt
        av_packet_free(&p)
    }

    /// Appends one frame: `rgb` is height × width × 3 bytes.
    public func write(rgb: [UInt8]) throws {
        guard rgb.count == width * height * 3 else {
            throw VideoError(.invalidArgument, path: path,
                             "frame has \(rgb.count) bytes, expected \(width)×\(height)×3 = \(width * height * 3)")
        }
        try rgb.withUnsafeBufferPointer { try write(pointer: $0.baseAddress!) }
    }

    /// Appends `count` frames stored one after another (count × height × width × 3 bytes).
    public func write(frames rgb: [UInt8], count: Int) throws {
        let fs = width * height * 3
        guard count >= 0, rgb.count == count * fs else {
            throw VideoError(.invalidArgument, path: path,
                             "\(rgb.count) bytes are not \(count) frames of \(width)×\(height)×3")
        }
        try rgb.withUnsafeBufferPointer { bp in
            for i in 0..<count { try write(pointer: bp.baseAddress! + i * fs) }
        }
    }

    private func write(pointer: UnsafePointer<UInt8>) throws {
        guard !closed, let enc = enc else { throw VideoError(.invalidArgument, path: path, "writer is closed") }
        clearFFmpegLastLog()
        av_frame_unref(src)
        src.pointee.format = AV_PIX_FMT_RGB24.rawValue
        src.pointee.width = Int32(width)
        src.pointee.height = Int32(height)
        src.pointee.data.0 = UnsafeMutablePointer(mutating: pointer)  // only read
        src.pointee.linesize.0 = Int32(width * 3)
        var r = av_frame_make_writable(yuv)  // the encoder may still hold the previous one
        guard r >= 0 else { throw VideoError(.io, path: path, "out of memory") }
        r = sws_scale_frame(sws, yuv, src)
        src.pointee.data.0 = nil
        guard r >= 0 else { throw VideoError(.encoder, path: path, "RGB → YUV failed: \(avErrorString(r))") }
        yuv.pointee.pts = Int64(framesWritten)
        r = avcodec_send_frame(enc, yuv)
        guard r >= 0 else { throw VideoError(.encoder, path: path, "encoding failed: \(avErrorString(r))") }
        framesWritten += 1
        try drainPackets()
    }

    private func drainPackets() throws {
        guard let enc = enc, let st = stream else { return }
        while true {
            let r = avcodec_receive_packet(enc, pkt)
            if r == vmae_AVERROR_EAGAIN() || r == vmae_AVERROR_EOF() { return }
            guard r >= 0 else { throw VideoError(.encoder, path: path, "encoding failed: \(avErrorString(r))") }
            // FFmpeg 5.1 encoders leave duration at 0; without it the last frame of an mp4 is lost.
            if pkt.pointee.duration == 0 { pkt.pointee.duration = 1 }
            av_packet_rescale_ts(pkt, enc.pointee.time_base, st.pointee.time_base)
            pkt.pointee.stream_index = st.pointee.index
            let w = av_interleaved_write_frame(oc, pkt)  // takes the packet's reference
            guard w >= 0 else { throw VideoError(.io, path: path, "cannot write: \(avErrorString(w))") }
        }
    }

    /// Flushes the encoder, writes the trailer and closes the file. Idempotent.
    public func close() throws {
        if closed { return }
        closed = true
        defer { release() }
        guard headerWritten, let enc = enc else { return }
        var r = avcodec_send_frame(enc, nil)
        if r >= 0 { try drainPackets() }
        r = av_write_trailer(oc)
        guard r >= 0 else { throw VideoError(.io, path: path, "cannot write the trailer: \(avErrorString(r))") }
    }

    private func release() {
        if let oc = oc {
            if (oc.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 && oc.pointee.pb != nil {
                avio_closep(&oc.pointee.pb)
            }
            avformat_free_context(oc)
            self.oc = nil
        }
        if enc != nil { avcodec_free_context(&enc) }
        if let s = sws {
            sws_freeContext(s)
            sws = nil
        }
        stream = nil
    }
}
