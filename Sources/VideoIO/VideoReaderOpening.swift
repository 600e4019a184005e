import CFFmpeg
import Foundation

// Opening a video: the container, the best video stream (attached pictures skipped), its
// decoder, and the stream's frame rate.
extension VideoReader {
    var stream: UnsafeMutablePointer<AVStream>? {
        guard let f = fmt, streamIndex >= 0, streamIndex < Int32(f.pointee.nb_streams) else { return nil }
        return f.pointee.streams[Int(streamIndex)]
    }

    func openInput() throws -> UnsafeMutablePointer<AVFormatContext> {
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
    func open() throws {
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

    func isAttachedPicture(_ s: UnsafeMutablePointer<AVStream>) -> Bool {
        (s.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC) != 0
    }

    func openDecoder() throws {
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

    func closeContexts() {
        if dec != nil { avcodec_free_context(&dec) }
        if fmt != nil { avformat_close_input(&fmt) }
    }

    static func frameRate(_ st: UnsafeMutablePointer<AVStream>) -> Double {
        for r in [st.pointee.avg_frame_rate, st.pointee.r_frame_rate] {
            let f = q2d(r)
            if f.isFinite && f > 0 && f <= 1000 { return f }
        }
        return 25  // neither is known: FFmpeg's own default guess
    }
}
