import CFFmpeg
import Foundation
import TensorCore
import VideoIO
import XCTest

@testable import DataPipeline

/// A fresh temporary folder per test case, removed afterwards.
class TempDirTestCase: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmae-data-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func path(_ name: String) -> String { dir + "/" + name }

    /// A video whose frame i is a flat grey of level `level(i)` (20 + 4·i, wrapping under 240):
    /// a decoded frame tells which frame it is.
    @discardableResult
    func writeLevelVideo(_ name: String, frames: Int, width: Int = 32, height: Int = 24, fps: Double = 12) throws -> String {
        let p = path(name)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let w = try VideoWriter(path: p, width: width, height: height, fps: fps)
        for i in 0..<frames { try w.write(rgb: [UInt8](repeating: UInt8(level(i)), count: width * height * 3)) }
        try w.close()
        return p
    }

    /// A textured video (noise that changes every frame): hard to compress, so a truncated copy
    /// still holds some frames.
    @discardableResult
    func writeNoiseVideo(_ name: String, frames: Int, size: Int = 32, seed: UInt64 = 1) throws -> String {
        let p = path(name)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let w = try VideoWriter(path: p, width: size, height: size, fps: 12)
        var rng = RNG(seed: seed)
        for _ in 0..<frames {
            try w.write(rgb: (0..<(size * size * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        }
        try w.close()
        return p
    }

    func truncate(_ p: String, to fraction: Double) throws {
        let d = try Data(contentsOf: URL(fileURLWithPath: p))
        try d.prefix(Int(Double(d.count) * fraction)).write(to: URL(fileURLWithPath: p))
    }

    func overwriteMiddle(_ p: String, fraction: Double = 0.5, length: Int) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
        var rng = RNG(seed: 99)
        let s = Int(Double(bytes.count) * fraction)
        for j in s..<min(bytes.count, s + length) { bytes[j] = UInt8(truncatingIfNeeded: rng.next()) }
        try Data(bytes).write(to: URL(fileURLWithPath: p))
    }
}

func level(_ i: Int) -> Int { 20 + (4 * i) % 220 }

/// Mean of frame t, channel c of a [T, C, H, W] tensor.
func planeMean(_ t: Tensor, frame: Int, channel: Int) -> Float {
    let h = t.shape[2], w = t.shape[3]
    let base = t.data + (frame * t.shape[1] + channel) * h * w
    var s: Float = 0
    for i in 0..<(h * w) { s += base[i] }
    return s / Float(h * w)
}

func sameTensor(_ a: Tensor, _ b: Tensor) -> Bool {
    a.shape == b.shape && memcmp(a.data, b.data, a.count * 4) == 0
}

/// Writes a mono 16-bit PCM tone (an audio-only file) into the container the extension names.
/// Returns false when this FFmpeg cannot.
func writeAudioOnlyFile(path: String, seconds: Double = 0.3, sampleRate: Int32 = 8000) -> Bool {
    var ocOpt: UnsafeMutablePointer<AVFormatContext>?
    guard avformat_alloc_output_context2(&ocOpt, nil, nil, path) >= 0, let oc = ocOpt else { return false }
    defer { avformat_free_context(oc) }
    guard let codec = avcodec_find_encoder(AV_CODEC_ID_PCM_S16LE), let enc = avcodec_alloc_context3(codec) else { return false }
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
    guard avcodec_parameters_from_context(st.pointee.codecpar, enc) >= 0,
          avio_open(&oc.pointee.pb, path, AVIO_FLAG_WRITE) >= 0 else { return false }
    defer { avio_closep(&oc.pointee.pb) }
    guard avformat_write_header(oc, nil) >= 0 else { return false }
    let frame = av_frame_alloc()!, pkt = av_packet_alloc()!
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
    var done = 0
    while done < total {
        let n = min(1024, total - done)
        av_frame_unref(frame)
        frame.pointee.nb_samples = Int32(n)
        frame.pointee.format = AV_SAMPLE_FMT_S16.rawValue
        frame.pointee.sample_rate = sampleRate
        guard av_channel_layout_copy(&frame.pointee.ch_layout, &enc.pointee.ch_layout) >= 0,
              av_frame_get_buffer(frame, 0) >= 0 else { return false }
        let samples = UnsafeMutableRawPointer(frame.pointee.data.0!).bindMemory(to: Int16.self, capacity: n)
        for i in 0..<n { samples[i] = Int16(6000 * sin(2 * Double.pi * 440 * Double(done + i) / Double(sampleRate))) }
        frame.pointee.pts = Int64(done)
        guard avcodec_send_frame(enc, frame) >= 0, drain() else { return false }
        done += n
    }
    _ = avcodec_send_frame(enc, nil)
    return drain() && av_write_trailer(oc) >= 0
}
