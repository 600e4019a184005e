import CFFmpeg
import Foundation

/// Writes a mono 16-bit PCM sine tone with libavformat/libavcodec (pcm_s16le) into the container
/// the extension names (.wav, .mkv): an audio-only file for the "no video stream" error.
/// Returns false when this FFmpeg cannot (then the test is skipped).
public func writeAudioOnlyFile(path: String, seconds: Double = 0.5, sampleRate: Int32 = 16000) -> Bool {
    var ocOpt: UnsafeMutablePointer<AVFormatContext>?
    guard avformat_alloc_output_context2(&ocOpt, nil, nil, path) >= 0, let oc = ocOpt else { return false }
    defer { avformat_free_context(oc) }
    guard let codec = avcodec_find_encoder(AV_CODEC_ID_PCM_S16LE),
          let enc = avcodec_alloc_context3(codec) else { return false }
    defer {
        var e: UnsafeMutablePointer<AVCodecContext>? = enc
        avcodec_free_context(&e)
    }
    enc.pointee.sample_fmt = AV_SAMPLE_FMT_S16
    enc.pointee.sample_rate = sampleRate
    av_channel_layout_default(&enc.pointee.ch_layout, 1)
    enc.pointee.time_base = AVRational(num: 1, den: sampleRate)
    guard avcodec_open2(enc, codec, nil) >= 0, let st = avformat_new_stream(oc, nil) else { return false }
    st.pointee.time_base = enc.pointee.time_base
    guard avcodec_parameters_from_context(st.pointee.codecpar, enc) >= 0 else { return false }
    guard avio_open(&oc.pointee.pb, path, AVIO_FLAG_WRITE) >= 0 else { return false }
    defer { avio_closep(&oc.pointee.pb) }
    guard avformat_write_header(oc, nil) >= 0 else { return false }

    let frame = av_frame_alloc()!
    let pkt = av_packet_alloc()!
    defer {
        var f: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&f)
        var p: UnsafeMutablePointer<AVPacket>? = pkt
        av_packet_free(&p)
    }
    func drain() -> Bool {
        while avcodec_receive_packet(enc, pkt) >= 0 {
            av_packet_rescale_ts(pkt, enc.pointee.time_base, st.pointee.time_base)
            pkt.pointee.stream_index = st.pointee.index
            if av_interleaved_write_frame(oc, pkt) < 0 { return false }
        }
        return true
    }
    let total = Int(Double(sampleRate) * seconds)
    let chunk = 1024
    var done = 0
    while done < total {
        let n = min(chunk, total - done)
        av_frame_unref(frame)
        frame.pointee.nb_samples = Int32(n)
        frame.pointee.format = AV_SAMPLE_FMT_S16.rawValue
        frame.pointee.sample_rate = sampleRate
        guard av_channel_layout_copy(&frame.pointee.ch_layout, &enc.pointee.ch_layout) >= 0,
              av_frame_get_buffer(frame, 0) >= 0 else { return false }
        let samples = UnsafeMutableRawPointer(frame.pointee.data.0!).bindMemory(to: Int16.self, capacity: n)
        for i in 0..<n {
            samples[i] = Int16(8000 * sin(2 * Double.pi * 440 * Double(done + i) / Double(sampleRate)))
        }
        frame.pointee.pts = Int64(done)
        guard avcodec_send_frame(enc, frame) >= 0, drain() else { return false }
        done += n
    }
    _ = avcodec_send_frame(enc, nil)
    guard drain() else { return false }
    return av_write_trailer(oc) >= 0
}
