import Foundation

/// Pillow's `Image.resize(…, BILINEAR)` of an 8-bit RGB image, byte for byte (Pillow's
/// libImaging/Resample.c): a separable convolution with the triangle filter, its support
/// widened by the scale when shrinking (antialiasing), coefficients normalized per output
/// pixel and rounded to 22-bit fixed point, a horizontal pass into 8-bit rows then a vertical
/// pass. Hugging Face's PIL image processors resize this way, so clips prepared with it match
/// theirs exactly.
public enum PILResize {
    static let precisionBits = 32 - 8 - 2

    /// Per output pixel: the first input pixel, how many, and the fixed-point weights.
    struct Coefficients {
        var start: [Int]
        var count: [Int]
        var weights: [Int32]   // outSize × ksize
        var ksize: Int
    }

    static func coefficients(inSize: Int, outSize: Int) -> Coefficients {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = 1.0 * filterScale                      // bilinear support 1
        let ksize = Int(support.rounded(.up)) * 2 + 1
        var c = Coefficients(start: [Int](repeating: 0, count: outSize), count: [Int](repeating: 0, count: outSize),
                             weights: [Int32](repeating: 0, count: outSize * ksize), ksize: ksize)
        var k = [Double](repeating: 0, count: ksize)
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            let ss = 1.0 / filterScale
            // Pillow truncates toward zero after adding 0.5
            var xmin = Int(center - support + 0.5)
            if xmin < 0 { xmin = 0 }
            var xmax = Int(center + support + 0.5)
            if xmax > inSize { xmax = inSize }
            xmax -= xmin
            var ww = 0.0
            for x in 0..<xmax {
                let t = abs((Double(x + xmin) - center + 0.5) * ss)
                let w = t < 1 ? 1 - t : 0
                k[x] = w
                ww += w
            }
            for x in 0..<xmax {
                let v = ww != 0 ? k[x] / ww : k[x]
                let f = v * Double(1 << precisionBits)
                c.weights[xx * ksize + x] = Int32(v < 0 ? (-0.5 + f).rounded(.towardZero) : (0.5 + f).rounded(.towardZero))
            }
            c.start[xx] = xmin
            c.count[xx] = xmax
        }
        return c
    }

    @inline(__always) static func clip8(_ v: Int32) -> UInt8 {
        let s = v >> Int32(precisionBits)
        return s < 0 ? 0 : s > 255 ? 255 : UInt8(s)
    }

    /// `rgb` (height × width × 3) resized to outWidth × outHeight. The same size is a copy (as Pillow).
    public static func bilinear(_ rgb: UnsafePointer<UInt8>, width: Int, height: Int, outWidth: Int, outHeight: Int) -> [UInt8] {
        if width == outWidth && height == outHeight { return Array(UnsafeBufferPointer(start: rgb, count: width * height * 3)) }
        let h = coefficients(inSize: width, outSize: outWidth)
        let v = coefficients(inSize: height, outSize: outHeight)
        // the rows the vertical pass reads
        let firstRow = v.start[0]
        let lastRow = v.start[outHeight - 1] + v.count[outHeight - 1]
        var src = rgb
        var temp: [UInt8] = []
        var rows = height, rowOffset = 0
        if width != outWidth {
            rows = lastRow - firstRow
            rowOffset = firstRow
            temp = [UInt8](repeating: 0, count: rows * outWidth * 3)
            temp.withUnsafeMutableBufferPointer { out in
                h.weights.withUnsafeBufferPointer { kw in
                    for y in 0..<rows {
                        let inRow = rgb + (y + firstRow) * width * 3
                        for xx in 0..<outWidth {
                            let x0 = h.start[xx], n = h.count[xx]
                            let kk = kw.baseAddress! + xx * h.ksize
                            var s0: Int32 = 1 << Int32(precisionBits - 1), s1 = s0, s2 = s0
                            for x in 0..<n {
                                let p = inRow + (x0 + x) * 3
                                s0 &+= Int32(p[0]) &* kk[x]
                                s1 &+= Int32(p[1]) &* kk[x]
                                s2 &+= Int32(p[2]) &* kk[x]
                            }
                            let o = (y * outWidth + xx) * 3
                            out[o] = clip8(s0); out[o + 1] = clip8(s1); out[o + 2] = clip8(s2)
                        }
                    }
                }
            }
        }
        if height == outHeight {
            return width != outWidth ? temp : Array(UnsafeBufferPointer(start: rgb, count: width * height * 3))
        }
        var out = [UInt8](repeating: 0, count: outHeight * outWidth * 3)
        let w = outWidth
        func vertical(_ s: UnsafePointer<UInt8>) {
            out.withUnsafeMutableBufferPointer { o in
                v.weights.withUnsafeBufferPointer { kw in
                    for yy in 0..<outHeight {
                        let y0 = v.start[yy] - rowOffset, n = v.count[yy]
                        let kk = kw.baseAddress! + yy * v.ksize
                        for i in 0..<(w * 3) {
                            var acc: Int32 = 1 << Int32(precisionBits - 1)
                            for y in 0..<n { acc &+= Int32(s[(y0 + y) * w * 3 + i]) &* kk[y] }
                            o[yy * w * 3 + i] = clip8(acc)
                        }
                    }
                }
            }
        }
        if width != outWidth {
            temp.withUnsafeBufferPointer { vertical($0.baseAddress!) }
        } else {
            src = rgb
            vertical(src)
        }
        return out
    }
}
