import CFFmpeg
import Foundation

// Decoding: forward one frame at a time, seeking to the keyframe before a far or earlier
// frame (rewinding when seeking proves unreliable), and counting packets.
extension VideoReader {
    /// Decodes the next frame into `frame`; false at the end of the stream.
    func decodeNext() throws -> Bool {
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
    func registerDecoded() -> Int {
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
    func moveTowards(_ target: Int) throws {
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

    func resetDecodingState() {
        pending = false
        draining = false
        finished = false
        av_frame_unref(last)
        hasLast = false
        lastIndex = -1
    }

    /// Seeks to the keyframe at or before frame `target`.
    func seek(to target: Int) throws {
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
    func rewind(reopen: Bool = false) throws {
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

    func countPackets() throws -> Int {
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
}
