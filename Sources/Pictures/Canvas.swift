import Foundation
import VideoIO

// Pictures: a tiny RGB8 raster with just enough drawing for training curves and
// reconstruction grids, saved as PNG through VideoIO's PNGImage. No fonts, no graphics
// library: text comes from BitmapFont.swift.
//
// Coordinates are pixels, x to the right and y down; pixel (i, j) covers the square
// [i − ½, i + ½] × [j − ½, j + ½], so its centre sits on integer coordinates.

/// An RGB8 raster to draw on. Every drawing call is clipped to `clip` (the whole canvas
/// unless set), so callers may draw partly or wholly off the picture.
public struct Canvas {
    public let width: Int
    public let height: Int
    /// `height × width × 3` bytes, row-major.
    public var rgb: [UInt8]
    /// Drawing outside this rectangle is ignored. Always inside the canvas.
    public var clip: PixelRect {
        didSet { clip = clip.intersection(bounds) }
    }

    public var bounds: PixelRect { PixelRect(x: 0, y: 0, width: width, height: height) }

    public init(width: Int, height: Int, background: RGBColor = .white) {
        precondition(width > 0 && height > 0, "Canvas: size \(width)×\(height)")
        let f = RGBFrame(width: width, height: height, fill: background)
        self.width = width
        self.height = height
        self.rgb = f.rgb
        self.clip = PixelRect(x: 0, y: 0, width: width, height: height)
    }

    public init(frame: RGBFrame) {
        precondition(frame.width > 0 && frame.height > 0, "Canvas: size \(frame.width)×\(frame.height)")
        self.width = frame.width
        self.height = frame.height
        self.rgb = frame.rgb
        self.clip = PixelRect(x: 0, y: 0, width: frame.width, height: frame.height)
    }

    /// The picture as a frame.
    public var frame: RGBFrame { RGBFrame(width: width, height: height, rgb: rgb) }

    // MARK: pixels

    public func pixel(x: Int, y: Int) -> RGBColor {
        let i = (y * width + x) * 3
        return RGBColor(rgb[i], rgb[i + 1], rgb[i + 2])
    }

    /// Sets one pixel (ignored outside `clip`).
    @inline(__always)
    public mutating func setPixel(x: Int, y: Int, _ c: RGBColor) {
        guard clip.contains(x: x, y: y) else { return }
        let i = (y * width + x) * 3
        rgb[i] = c.r
        rgb[i + 1] = c.g
        rgb[i + 2] = c.b
    }

    /// Paints `c` over one pixel with opacity `alpha` (0…1).
    @inline(__always)
    public mutating func blendPixel(x: Int, y: Int, _ c: RGBColor, alpha: Double) {
        guard alpha > 0, clip.contains(x: x, y: y) else { return }
        if alpha >= 1 {
            setPixel(x: x, y: y, c)
            return
        }
        let i = (y * width + x) * 3
        let a = Float(alpha)
        @inline(__always) func mix(_ old: UInt8, _ new: UInt8) -> UInt8 {
            let o = Float(old)
            let v: Float = o + (Float(new) - o) * a + 0.5
            return UInt8(min(255, max(0, v)))
        }
        rgb[i] = mix(rgb[i], c.r)
        rgb[i + 1] = mix(rgb[i + 1], c.g)
        rgb[i + 2] = mix(rgb[i + 2], c.b)
    }

    // MARK: areas

    /// Fills the whole canvas (ignores `clip`).
    public mutating func fill(_ c: RGBColor) {
        for i in stride(from: 0, to: rgb.count, by: 3) {
            rgb[i] = c.r
            rgb[i + 1] = c.g
            rgb[i + 2] = c.b
        }
    }

    public mutating func fillRect(_ r: PixelRect, _ c: RGBColor) {
        let a = r.intersection(clip)
        guard !a.isEmpty else { return }
        for y in a.y ..< a.maxY {
            var i = (y * width + a.x) * 3
            for _ in 0 ..< a.width {
                rgb[i] = c.r
                rgb[i + 1] = c.g
                rgb[i + 2] = c.b
                i += 3
            }
        }
    }

    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, _ c: RGBColor) {
        fillRect(PixelRect(x: x, y: y, width: w, height: h), c)
    }

    /// The outline of `r`, `thickness` pixels wide, drawn inside `r`.
    public mutating func strokeRect(_ r: PixelRect, _ c: RGBColor, thickness: Int = 1) {
        let t = max(1, min(thickness, min(r.width, r.height)))
        guard !r.isEmpty else { return }
        fillRect(PixelRect(x: r.x, y: r.y, width: r.width, height: t), c)
        fillRect(PixelRect(x: r.x, y: r.maxY - t, width: r.width, height: t), c)
        fillRect(PixelRect(x: r.x, y: r.y, width: t, height: r.height), c)
        fillRect(PixelRect(x: r.maxX - t, y: r.y, width: t, height: r.height), c)
    }

    /// Moves every pixel of `r` a fraction `strength` (0…1) of the way towards `grey`:
    /// 1 paints it solid, less leaves a ghost of the picture.
    public mutating func greyOut(_ r: PixelRect, grey: RGBColor = .maskGrey, strength: Double = 0.8) {
        let a = r.intersection(clip)
        guard !a.isEmpty else { return }
        let s = Float(min(max(strength, 0), 1))
        let g = [Float(grey.r), Float(grey.g), Float(grey.b)]
        for y in a.y ..< a.maxY {
            var i = (y * width + a.x) * 3
            for _ in 0 ..< a.width {
                for k in 0 ..< 3 {
                    let v = Float(rgb[i + k])
                    let m: Float = v + (g[k] - v) * s + 0.5
                    rgb[i + k] = UInt8(min(255, max(0, m)))
                }
                i += 3
            }
        }
    }

    /// Draws `image` scaled (nearest neighbour) to fill `dst`.
    public mutating func blit(_ image: RGBFrame, into dst: PixelRect) {
        guard image.width > 0, image.height > 0, !dst.isEmpty else { return }
        let a = dst.intersection(clip)
        guard !a.isEmpty else { return }
        for y in a.y ..< a.maxY {
            let sy = min(image.height - 1, (2 * (y - dst.y) + 1) * image.height / (2 * dst.height))
            var o = (y * width + a.x) * 3
            for x in a.x ..< a.maxX {
                let sx = min(image.width - 1, (2 * (x - dst.x) + 1) * image.width / (2 * dst.width))
                let i = (sy * image.width + sx) * 3
                rgb[o] = image.rgb[i]
                rgb[o + 1] = image.rgb[i + 1]
                rgb[o + 2] = image.rgb[i + 2]
                o += 3
            }
        }
    }

    /// Draws `image` unscaled with its top-left corner at (x, y).
    public mutating func blit(_ image: RGBFrame, x: Int, y: Int) {
        blit(image, into: PixelRect(x: x, y: y, width: image.width, height: image.height))
    }

    // MARK: lines

    /// A line between pixel centres (Bresenham), drawn with a square pen of `thickness`
    /// pixels (1 or 2 are typical); both ends included.
    public mutating func line(x0: Int, y0: Int, x1: Int, y1: Int, _ c: RGBColor, thickness: Int = 1) {
        let t = max(1, thickness)
        let lo = -(t - 1) / 2
        func pen(_ x: Int, _ y: Int) {
            if t == 1 {
                setPixel(x: x, y: y, c)
            } else {
                fillRect(PixelRect(x: x + lo, y: y + lo, width: t, height: t), c)
            }
        }
        // Skip lines that cannot touch the clip rectangle (they may be absurdly long).
        let m = t
        if max(x0, x1) < clip.x - m || min(x0, x1) >= clip.maxX + m
            || max(y0, y1) < clip.y - m || min(y0, y1) >= clip.maxY + m { return }
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        while true {
            pen(x, y)
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// An anti-aliased line between two points (Wu-style coverage), `thickness` pixels
    /// wide measured across the line.
    public mutating func smoothLine(x0: Double, y0: Double, x1: Double, y1: Double, _ c: RGBColor,
                                    thickness: Double = 1.5) {
        guard x0.isFinite, y0.isFinite, x1.isFinite, y1.isFinite else { return }
        let w = max(thickness, 0.5)
        let steep = abs(y1 - y0) > abs(x1 - x0)
        // Work with the major axis as "u" and the minor one as "v".
        var (u0, v0, u1, v1) = steep ? (y0, x0, y1, x1) : (x0, y0, x1, y1)
        if u0 > u1 { swap(&u0, &u1); swap(&v0, &v1) }
        let du = u1 - u0
        let slope = du > 1e-12 ? (v1 - v0) / du : 0
        let half = w * (1 + slope * slope).squareRoot() / 2
        let uLimit = steep ? (clip.y, clip.maxY - 1) : (clip.x, clip.maxX - 1)
        let vLimit = steep ? (clip.x, clip.maxX - 1) : (clip.y, clip.maxY - 1)
        // Clamp in floating point first: far-off ends must not overflow Int.
        let uFirst = max(u0.rounded(), Double(uLimit.0)), uLast = min(u1.rounded(), Double(uLimit.1))
        guard uFirst <= uLast else { return }
        let uStart = Int(uFirst), uEnd = Int(uLast)
        for ui in uStart ... uEnd {
            let uc = min(max(Double(ui), u0), u1)
            let vc = v0 + slope * (uc - u0)
            let lo = vc - half, hi = vc + half
            let vFirst = max((lo + 0.5).rounded(.down), Double(vLimit.0))
            let vEnd = min((hi + 0.5).rounded(.down), Double(vLimit.1))
            guard vFirst <= vEnd else { continue }
            var vi = Int(vFirst)
            let vLast = Int(vEnd)
            while vi <= vLast {
                let cov = min(hi, Double(vi) + 0.5) - max(lo, Double(vi) - 0.5)
                if cov > 0 {
                    if steep { blendPixel(x: vi, y: ui, c, alpha: min(cov, 1)) }
                    else { blendPixel(x: ui, y: vi, c, alpha: min(cov, 1)) }
                }
                vi += 1
            }
        }
    }

    /// Joined line segments through `points`; non-finite points break the line.
    public mutating func polyline(_ points: [(x: Double, y: Double)], _ c: RGBColor, thickness: Double = 1.5,
                                  antialiased: Bool = true) {
        guard !points.isEmpty else { return }
        var prev: (x: Double, y: Double)? = nil
        for p in points {
            guard p.x.isFinite, p.y.isFinite else { prev = nil; continue }
            if let q = prev {
                if antialiased {
                    smoothLine(x0: q.x, y0: q.y, x1: p.x, y1: p.y, c, thickness: thickness)
                } else {
                    func px(_ v: Double) -> Int { Int(min(max(v, -1e6), 1e6).rounded()) }
                    line(x0: px(q.x), y0: px(q.y), x1: px(p.x), y1: px(p.y), c, thickness: Int(thickness.rounded()))
                }
            } else if points.count == 1 {
                fillCircle(cx: p.x, cy: p.y, radius: max(1, thickness), c)
            }
            prev = p
        }
    }

    /// A filled disc (markers on sparse curves).
    public mutating func fillCircle(cx: Double, cy: Double, radius: Double, _ c: RGBColor) {
        guard cx.isFinite, cy.isFinite, radius > 0, radius < 1e4, abs(cx) < 1e7, abs(cy) < 1e7 else { return }
        let x0 = Int((cx - radius - 1).rounded(.down)), x1 = Int((cx + radius + 1).rounded(.up))
        let y0 = Int((cy - radius - 1).rounded(.down)), y1 = Int((cy + radius + 1).rounded(.up))
        guard x1 >= clip.x, x0 < clip.maxX, y1 >= clip.y, y0 < clip.maxY else { return }
        for y in y0 ... y1 {
            for x in x0 ... x1 {
                let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
                let cov = radius + 0.5 - d
                if cov > 0 { blendPixel(x: x, y: y, c, alpha: min(cov, 1)) }
            }
        }
    }

    // MARK: files

    /// Writes the canvas as a PNG. The file appears under `path` whole or not at all
    /// (written next to it, then renamed), so a viewer that refreshes it never sees half a picture.
    public func save(path: String) throws {
        try Canvas.writePNG(frame, path: path)
    }

    static func writePNG(_ f: RGBFrame, path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        if !dir.isEmpty, !FileManager.default.fileExists(atPath: dir) {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let tmp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0 ... .max)).tmp").path
        do {
            try PNGImage.write(path: tmp, width: f.width, height: f.height, rgb: f.rgb)
            guard rename(tmp, path) == 0 else {
                let reason = String(cString: strerror(errno))
                throw VideoError(.io, path: path, "cannot write: \(reason)")
            }
        } catch {
            unlink(tmp)
            if let e = error as? VideoError, e.path == tmp {
                throw VideoError(e.kind, path: path, e.reason)
            }
            throw error
        }
    }
}
