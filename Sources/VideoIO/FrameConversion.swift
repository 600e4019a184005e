import CFFmpeg
import Foundation

// Frame conversion: a decoded frame to RGB24 at the asked size (libswscale, bilinear).
extension VideoReader {
    func checkSize(_ w: Int, _ h: Int) throws {
        guard w > 0, h > 0, w <= 16384, h <= 16384 else {
            throw VideoError(.invalidArgument, path: path, "output size \(w)×\(h) is not in 1...16384")
        }
    }

    /// Bilinear resizing; accurate rounding and full-resolution chroma interpolation: without them
    /// swscale's fast YUV → RGB path is biased by 1–3 levels (more when upscaling).
    static let swsFlags = SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT

    /// Converts (and resizes) `src` to RGB24, tightly packed, at `dst`.
    func convert(_ src: UnsafeMutablePointer<AVFrame>, into dst: UnsafeMutablePointer<UInt8>,
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
}
