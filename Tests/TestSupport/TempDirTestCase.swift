import Foundation
import TensorCore
import VideoIO
import XCTest


/// A fresh temporary folder per test case, removed afterwards.
open class TempDirTestCase: XCTestCase {
    public var dir: String!

    open override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmae-data-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    open override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    public func path(_ name: String) -> String { dir + "/" + name }

    /// A video whose frame i is a flat grey of level `level(i)` (20 + 4·i, wrapping under 240):
    /// a decoded frame tells which frame it is.
    @discardableResult
    public func writeLevelVideo(_ name: String, frames: Int, width: Int = 32, height: Int = 24, fps: Double = 12) throws -> String {
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
    public func writeNoiseVideo(_ name: String, frames: Int, size: Int = 32, seed: UInt64 = 1) throws -> String {
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

    public func truncate(_ p: String, to fraction: Double) throws {
        let d = try Data(contentsOf: URL(fileURLWithPath: p))
        try d.prefix(Int(Double(d.count) * fraction)).write(to: URL(fileURLWithPath: p))
    }

    public func overwriteMiddle(_ p: String, fraction: Double = 0.5, length: Int) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
        var rng = RNG(seed: 99)
        let s = Int(Double(bytes.count) * fraction)
        for j in s..<min(bytes.count, s + length) { bytes[j] = UInt8(truncatingIfNeeded: rng.next()) }
        try Data(bytes).write(to: URL(fileURLWithPath: p))
    }
}

public func level(_ i: Int) -> Int { 20 + (4 * i) % 220 }

/// Mean of frame t, channel c of a [T, C, H, W] tensor.
public func planeMean(_ t: Tensor, frame: Int, channel: Int) -> Float {
    let h = t.shape[2], w = t.shape[3]
    let base = t.data + (frame * t.shape[1] + channel) * h * w
    var s: Float = 0
    for i in 0..<(h * w) { s += base[i] }
    return s / Float(h * w)
}

public func sameTensor(_ a: Tensor, _ b: Tensor) -> Bool {
    a.shape == b.shape && memcmp(a.data, b.data, a.count * 4) == 0
}
