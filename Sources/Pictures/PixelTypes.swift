import Foundation
import VideoIO

// The values pictures are made of: an RGB colour, a pixel rectangle, an RGB8 frame.
// Coordinates are pixels, x to the right and y down (see Canvas.swift).

/// An 8-bit RGB colour.
public struct RGBColor: Equatable, Hashable, Sendable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// `0xRRGGBB`.
    public init(hex: UInt32) {
        self.init(UInt8((hex >> 16) & 0xFF), UInt8((hex >> 8) & 0xFF), UInt8(hex & 0xFF))
    }

    /// `self` moved a fraction `t` (0…1) of the way towards `other`.
    public func mixed(with other: RGBColor, _ t: Double) -> RGBColor {
        let t = min(max(t, 0), 1)
        func m(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8(min(255, max(0, (Double(a) + (Double(b) - Double(a)) * t).rounded())))
        }
        return RGBColor(m(r, other.r), m(g, other.g), m(b, other.b))
    }

    public static let white = RGBColor(255, 255, 255)
    public static let black = RGBColor(0, 0, 0)
    /// The grey of masked tubelets.
    public static let maskGrey = RGBColor(128, 128, 128)
}

/// A rectangle of pixels: columns `x ..< x + width`, rows `y ..< y + height`.
public struct PixelRect: Equatable, Hashable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }

    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && px < x + width && py >= y && py < y + height
    }

    /// The overlap of two rectangles (empty, width or height 0, when they do not meet).
    public func intersection(_ o: PixelRect) -> PixelRect {
        let x0 = max(x, o.x), y0 = max(y, o.y)
        let x1 = min(maxX, o.maxX), y1 = min(maxY, o.maxY)
        return PixelRect(x: x0, y: y0, width: max(0, x1 - x0), height: max(0, y1 - y0))
    }

    /// The rectangle shrunk by `d` pixels on every side.
    public func inset(by d: Int) -> PixelRect {
        PixelRect(x: x + d, y: y + d, width: max(0, width - 2 * d), height: max(0, height - 2 * d))
    }
}

/// An RGB image: `height × width × 3` bytes, row-major, no padding.
public struct RGBFrame: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var rgb: [UInt8]

    /// `rgb` must hold exactly `width · height · 3` bytes.
    public init(width: Int, height: Int, rgb: [UInt8]) {
        precondition(width >= 0 && height >= 0 && rgb.count == width * height * 3,
                     "RGBFrame: \(rgb.count) bytes for \(width)×\(height)×3")
        self.width = width
        self.height = height
        self.rgb = rgb
    }

    /// A frame of one colour.
    public init(width: Int, height: Int, fill: RGBColor = .black) {
        let w = max(0, width), h = max(0, height)
        var bytes = [UInt8](repeating: 0, count: w * h * 3)
        for i in stride(from: 0, to: bytes.count, by: 3) {
            bytes[i] = fill.r
            bytes[i + 1] = fill.g
            bytes[i + 2] = fill.b
        }
        self.init(width: w, height: h, rgb: bytes)
    }

    /// Reads a PNG file.
    public init(pngPath: String) throws {
        let img = try PNGImage.read(path: pngPath)
        self.init(width: img.width, height: img.height, rgb: img.rgb)
    }

    public subscript(x: Int, y: Int) -> RGBColor {
        let i = (y * width + x) * 3
        return RGBColor(rgb[i], rgb[i + 1], rgb[i + 2])
    }
}
