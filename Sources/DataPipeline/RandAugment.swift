import Foundation
import TensorCore

/// timm's RandAugment as the original VideoMAE fine-tuning uses it (`--aa
/// rand-m7-n4-mstd0.5-inc1`, through PySlowFast's video version): `n` operations drawn with
/// replacement from the list, each applied with probability 0.5 at a magnitude drawn from
/// N(m, mstd) clipped to [0, 10], **the same operation with the same arguments on every frame**
/// of the clip. Runs on the decoded RGB24 frames, before the crop, as the original runs it on the
/// PIL frames before `spatial_sampling`. Point operations follow PIL's lookup tables and blends
/// (truncating, as PIL's 8-bit blend); the geometric ones (rotate, shear, translate) sample
/// bilinearly where the original uses PIL's bicubic, with PIL's grey fill (128).
public struct RandAugment: Equatable, CustomStringConvertible {
    public enum Op: String, CaseIterable, Equatable {
        case autoContrast, equalize, invert, rotate, posterize, solarize, solarizeAdd
        case color, contrast, brightness, sharpness, shearX, shearY, translateX, translateY
    }

    // timm's defaults for parts the spec leaves out
    public var numOps = 2
    public var magnitude = 10.0
    public var magnitudeStd = 0.0
    public var magnitudeMax = 10.0
    /// timm's "inc1": posterize, solarize and the enhancements grow stronger with the magnitude
    /// (the `…Increasing` variants); "inc0": timm's original level functions.
    public var increasing = false
    public static let prob = 0.5
    public static let ops = Op.allCases
    public let spec: String

    public var description: String { spec }

    /// Parses timm's config string, e.g. "rand-m7-n4-mstd0.5-inc1" (keys m, n, mstd, mmax, inc).
    public init(spec: String) throws {
        self.spec = spec
        let parts = spec.split(separator: "-").map(String.init)
        guard parts.first == "rand" else { throw DataError("\"\(spec)\": a RandAugment spec starts with \"rand\" (e.g. rand-m7-n4-mstd0.5-inc1)") }
        for p in parts.dropFirst() {
            func number(_ key: String) throws -> Double {
                guard let v = Double(p.dropFirst(key.count)), v.isFinite, v >= 0 else {
                    throw DataError("\"\(spec)\": \"\(p)\" needs a non-negative number after \"\(key)\"")
                }
                return v
            }
            if p.hasPrefix("mstd") { magnitudeStd = try number("mstd") }
            else if p.hasPrefix("mmax") { magnitudeMax = try number("mmax") }
            else if p.hasPrefix("inc") { increasing = try number("inc") != 0 }
            else if p.hasPrefix("m") { magnitude = try number("m") }
            else if p.hasPrefix("n") {
                let n = try number("n")
                guard n == n.rounded(), n <= 16 else { throw DataError("\"\(spec)\": n must be a whole number up to 16") }
                numOps = Int(n)
            } else {
                throw DataError("\"\(spec)\": unknown part \"\(p)\" (known: m, n, mstd, mmax, inc)")
            }
        }
    }

    /// One drawn operation with its arguments (the same for every frame).
    public struct Step: Equatable {
        public var op: Op
        /// Degrees, a shear factor, a fraction of the width/height, an enhancement factor, a
        /// threshold, an addend or a bit count, by operation.
        public var value: Double
        public init(op: Op, value: Double) {
            self.op = op
            self.value = value
        }
    }

    /// The draws, in timm's order: `n` operation choices (numpy's choice with replacement), then
    /// per operation its probability, its magnitude and, for signed ones, the sign.
    public func draw(rng: inout RNG) -> [Step] {
        let chosen = (0..<numOps).map { _ in Self.ops[rng.int(below: Self.ops.count)] }
        var steps: [Step] = []
        for op in chosen {
            guard rng.uniformDouble() <= Self.prob else { continue }
            var m = magnitude
            if magnitudeStd > 0 { m = magnitude + magnitudeStd * rng.normalDouble() }
            m = min(magnitudeMax, max(0, m))
            let level = m / 10
            func signed(_ v: Double) -> Double { rng.uniformDouble() > 0.5 ? -v : v }
            let value: Double
            switch op {
            case .autoContrast, .equalize, .invert: value = 0
            case .rotate: value = signed(level * 30)
            case .shearX, .shearY: value = signed(level * 0.3)
            case .translateX, .translateY: value = signed(level * 0.45)
            case .posterize: value = Double(increasing ? 4 - Int(level * 4) : Int(level * 4))
            case .solarize: value = Double(increasing ? 256 - Int(level * 256) : Int(level * 256))
            case .solarizeAdd: value = Double(Int(level * 110))
            case .color, .contrast, .brightness, .sharpness:
                value = increasing ? 1 + signed(level * 0.9) : level * 1.8 + 0.1
            }
            steps.append(Step(op: op, value: value))
        }
        return steps
    }

    /// Draws the operations and applies them to `count` packed RGB24 frames of `width` × `height`.
    public func apply(_ frames: inout [UInt8], count: Int, width: Int, height: Int, rng: inout RNG) {
        let steps = draw(rng: &rng)
        let fs = width * height * 3
        precondition(frames.count >= count * fs)
        frames.withUnsafeMutableBufferPointer { buf in
            for t in 0..<count {
                let f = buf.baseAddress! + t * fs
                for s in steps { Self.run(s, f, width: width, height: height) }
            }
        }
    }

    // MARK: - The operations, one frame (packed RGB24) at a time

    public static func run(_ s: Step, _ f: UnsafeMutablePointer<UInt8>, width w: Int, height h: Int) {
        let n = w * h
        switch s.op {
        case .invert: lut(f, n) { _, v in 255 - v }
        case .posterize:
            let bits = Int(s.value)
            if bits >= 8 { return }
            let mask = UInt8(truncatingIfNeeded: ~((1 << (8 - max(0, bits))) - 1))
            lut(f, n) { _, v in v & mask }
        case .solarize:
            let thresh = Int(s.value)
            lut(f, n) { _, v in Int(v) < thresh ? v : 255 - v }
        case .solarizeAdd:
            let add = Int(s.value)
            lut(f, n) { _, v in Int(v) < 128 ? UInt8(min(255, Int(v) + add)) : v }
        case .autoContrast: autoContrast(f, n)
        case .equalize: equalize(f, n)
        case .brightness:
            blend(f, n, factor: s.value) { _ in (0, 0, 0) }
        case .color:
            // the degenerate image: the frame in grey (PIL's L = R·299/1000 + G·587/1000 + B·114/1000)
            blend(f, n, factor: s.value) { i in
                let l = grey(f[3 * i], f[3 * i + 1], f[3 * i + 2])
                return (l, l, l)
            }
        case .contrast:
            var sum = 0
            for i in 0..<n { sum += Int(grey(f[3 * i], f[3 * i + 1], f[3 * i + 2])) }
            let mean = Int(Double(sum) / Double(max(1, n)) + 0.5)
            blend(f, n, factor: s.value) { _ in (mean, mean, mean) }
        case .sharpness: sharpness(f, width: w, height: h, factor: s.value)
        case .rotate:
            // PIL's rotate about the centre, counter-clockwise by the angle
            let a = s.value * .pi / 180, c = cos(a), sn = sin(a)
            let cx = Double(w) / 2, cy = Double(h) / 2
            affine(f, width: w, height: h) { x, y in
                let dx = x - cx, dy = y - cy
                return (c * dx - sn * dy + cx, sn * dx + c * dy + cy)
            }
        case .shearX: affine(f, width: w, height: h) { x, y in (x + s.value * y, y) }
        case .shearY: affine(f, width: w, height: h) { x, y in (x, s.value * x + y) }
        case .translateX:
            let px = s.value * Double(w)
            affine(f, width: w, height: h) { x, y in (x + px, y) }
        case .translateY:
            let py = s.value * Double(h)
            affine(f, width: w, height: h) { x, y in (x, y + py) }
        }
    }

    @inline(__always) static func grey(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int {
        (Int(r) * 19595 + Int(g) * 38470 + Int(b) * 7471 + 0x8000) >> 16
    }

    /// A per-channel lookup table (channel, value) → value, applied to every pixel.
    static func lut(_ f: UnsafeMutablePointer<UInt8>, _ n: Int, _ map: (Int, UInt8) -> UInt8) {
        var table = [UInt8](repeating: 0, count: 768)
        for c in 0..<3 { for v in 0..<256 { table[c * 256 + v] = map(c, UInt8(v)) } }
        for i in 0..<n { for c in 0..<3 { f[3 * i + c] = table[c * 256 + Int(f[3 * i + c])] } }
    }

    /// PIL's `ImageOps.autocontrast` (cutoff 0): each channel stretched from its min–max to 0–255.
    static func autoContrast(_ f: UnsafeMutablePointer<UInt8>, _ n: Int) {
        var lo = [255, 255, 255], hi = [0, 0, 0]
        for i in 0..<n { for c in 0..<3 { let v = Int(f[3 * i + c]); lo[c] = min(lo[c], v); hi[c] = max(hi[c], v) } }
        lut(f, n) { c, v in
            guard hi[c] > lo[c] else { return v }
            let scale = 255.0 / Double(hi[c] - lo[c]), offset = -Double(lo[c]) * scale
            return UInt8(max(0, min(255, Int(Double(v) * scale + offset))))
        }
    }

    /// PIL's `ImageOps.equalize`: each channel through its cumulative histogram.
    static func equalize(_ f: UnsafeMutablePointer<UInt8>, _ n: Int) {
        var hist = [[Int]](repeating: [Int](repeating: 0, count: 256), count: 3)
        for i in 0..<n { for c in 0..<3 { hist[c][Int(f[3 * i + c])] += 1 } }
        var tables: [[UInt8]?] = []
        for c in 0..<3 {
            let nonzero = hist[c].filter { $0 > 0 }
            guard nonzero.count > 1 else { tables.append(nil); continue }
            let step = (nonzero.reduce(0, +) - nonzero.last!) / 255
            guard step > 0 else { tables.append(nil); continue }
            var t = [UInt8](repeating: 0, count: 256), acc = step / 2
            for v in 0..<256 { t[v] = UInt8(min(255, acc / step)); acc += hist[c][v] }
            tables.append(t)
        }
        lut(f, n) { c, v in tables[c].map { $0[Int(v)] } ?? v }
    }

    /// PIL's `Image.blend(degenerate, frame, factor)` on 8 bits: degenerate + factor·(frame −
    /// degenerate), truncated toward zero, clipped to 0–255.
    static func blend(_ f: UnsafeMutablePointer<UInt8>, _ n: Int, factor: Double, degenerate: (Int) -> (Int, Int, Int)) {
        @inline(__always) func mix(_ o: Int, _ d: Int) {
            let v = Double(d) + factor * Double(Int(f[o]) - d)
            f[o] = v <= 0 ? 0 : v >= 255 ? 255 : UInt8(v)
        }
        for i in 0..<n {
            let d = degenerate(i)
            mix(3 * i, d.0)
            mix(3 * i + 1, d.1)
            mix(3 * i + 2, d.2)
        }
    }

    /// PIL's `ImageEnhance.Sharpness`: a blend with the SMOOTH-filtered frame (3×3 kernel, 5 in
    /// the middle, 1 around, /13), whose border pixels stay as they are.
    static func sharpness(_ f: UnsafeMutablePointer<UInt8>, width w: Int, height h: Int, factor: Double) {
        let src = [UInt8](UnsafeBufferPointer(start: f, count: w * h * 3))
        var smooth = src
        if w >= 3 && h >= 3 {
            for y in 1..<(h - 1) {
                for x in 1..<(w - 1) {
                    for c in 0..<3 {
                        var acc = 0
                        for dy in -1...1 { for dx in -1...1 { acc += Int(src[((y + dy) * w + x + dx) * 3 + c]) * (dx == 0 && dy == 0 ? 5 : 1) } }
                        smooth[(y * w + x) * 3 + c] = UInt8(min(255, (acc + 6) / 13))
                    }
                }
            }
        }
        blend(f, w * h, factor: factor) { i in (Int(smooth[3 * i]), Int(smooth[3 * i + 1]), Int(smooth[3 * i + 2])) }
    }

    /// Output pixel (x, y) (centres at +0.5) takes the input at `source(x, y)`, bilinearly; outside
    /// the frame, PIL's fill grey 128.
    static func affine(_ f: UnsafeMutablePointer<UInt8>, width w: Int, height h: Int, source: (Double, Double) -> (Double, Double)) {
        let src = [UInt8](UnsafeBufferPointer(start: f, count: w * h * 3))
        for y in 0..<h {
            for x in 0..<w {
                let (sx, sy) = source(Double(x) + 0.5, Double(y) + 0.5)
                let fx = sx - 0.5, fy = sy - 0.5
                let x0 = Int(fx.rounded(.down)), y0 = Int(fy.rounded(.down))
                let ax = fx - Double(x0), ay = fy - Double(y0)
                for c in 0..<3 {
                    func at(_ xx: Int, _ yy: Int) -> Double {
                        xx >= 0 && xx < w && yy >= 0 && yy < h ? Double(src[(yy * w + xx) * 3 + c]) : 128
                    }
                    let v = (1 - ay) * ((1 - ax) * at(x0, y0) + ax * at(x0 + 1, y0)) + ay * ((1 - ax) * at(x0, y0 + 1) + ax * at(x0 + 1, y0 + 1))
                    f[(y * w + x) * 3 + c] = UInt8(max(0, min(255, v.rounded())))
                }
            }
        }
    }
}
