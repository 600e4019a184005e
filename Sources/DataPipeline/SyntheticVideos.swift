import Foundation
import TensorCore
import VideoIO

/// A synthetic action dataset of eight classes in four time-reversed pairs: a big textured actor
/// over a smooth, muted background moves left / right, moves up / down, turns clockwise /
/// counter-clockwise, or grows / shrinks.
///
/// Each pair has its own kind of actor, as real actions come with their objects: a rectangle
/// moves sideways, an ellipse up or down, a triangle turns, a cross grows or shrinks. One frame
/// tells the pair; only the order of the frames tells which of the two: the motion runs
/// symmetrically about the middle frame, so a clip of one class played backwards is a clip of the
/// other, with the same distribution of poses. Every clip draws its own texture (stripes, checker, blocky
/// noise), colours, background (long waves, ramp, radial glow, two-way wave), position,
/// orientation, size and speed; the actor's centre stays inside the middle of the frame.
///
/// The actor is big and bold and the background has no grain, so that what a masked autoencoder
/// cannot predict from the visible patches is mostly the actor: its shape, where it is and how it
/// moves (the README's "seed's case" measures what that pretraining is worth).
///
/// Clip `i` of class `c` depends only on (seed, c, i): `RNG(seed, c, i)`.
public enum SyntheticVideos {
    public static let classNames = [
        "move_left", "move_right", "move_up", "move_down",
        "rotate_clockwise", "rotate_counterclockwise", "grow", "shrink",
    ]

    /// How the actor is painted. `textured` (the default, the README's seed case): stripes, a
    /// checker or blocky noise at 1–2 periods per actor, whose phase a masked autoencoder can
    /// only average. `twoTone`: the same two colours split once, along the texture's angle through
    /// the actor's centre, so that what is hidden under a mask (shape, place, pose, the split) can
    /// be predicted from what is visible. Every other draw, and so every other property of a
    /// clip, is the same for both.
    public enum Actors: String, CaseIterable, Sendable {
        case textured
        case twoTone = "two-tone"
    }

    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    public struct Summary: CustomStringConvertible {
        public let out: String
        public let classNames: [String]
        public let trainClips: Int
        public let valClips: Int
        public let size: Int
        public let frames: Int
        /// The FFmpeg encoder used ("libx264" or "mpeg4").
        public let encoder: String
        public let seconds: Double
        public var description: String {
            "\(trainClips) train + \(valClips) val clips of \(classNames.count) classes, \(frames)×\(size)×\(size), "
                + "\(encoder), in \(out) (\(String(format: "%.1f", seconds)) s)"
        }
    }

    /// The generator for clip `clip` of class `classIndex`.
    public static func clipRNG(seed: UInt64, classIndex: Int, clip: Int) -> RNG {
        RNG(seed, UInt64(classIndex), UInt64(clip))
    }

    /// Renders one clip of class `classIndex` (index into `classNames`) as RGB24 frames,
    /// frames × size × size × 3 bytes.
    public static func render(classIndex: Int, size: Int = 112, frames: Int = 32, seed: UInt64,
                              actors: Actors = .textured) -> [UInt8] {
        var rng = RNG(seed: seed)
        return render(classIndex: classIndex, size: size, frames: frames, rng: &rng, actors: actors)
    }

    public static func render(classIndex: Int, size: Int, frames: Int, rng: inout RNG, actors: Actors = .textured) -> [UInt8] {
        precondition((0..<classNames.count).contains(classIndex), "class index \(classIndex) not in 0..<8")
        precondition(size >= 8 && frames >= 1)
        var r = Draw(rng: rng)
        defer { rng = r.rng }
        let S = Double(size)

        // Background, drawn once: muted, near grey, so that the actor, not the backdrop, holds
        // most of what differs between clips.
        let g = r.uniform(90, 160)
        let bg1 = [g + r.uniform(-15, 15), g + r.uniform(-15, 15), g + r.uniform(-15, 15)]
        let bg2 = [bg1[0] + r.uniform(-30, 30), bg1[1] + r.uniform(-30, 30), bg1[2] + r.uniform(-30, 30)]
        let background = makeBackground(&r, size: size, c1: bg1, c2: bg2)
        let bgMean = [(bg1[0] + bg2[0]) / 2, (bg1[1] + bg2[1]) / 2, (bg1[2] + bg2[2]) / 2]

        // The actor and its texture (in shape units: the shape spans about -1...1).
        let shape = classIndex / 2  // 0 rectangle (moves sideways), 1 ellipse (up/down), 2 triangle (turns), 3 cross (grows/shrinks)
        let aspect = r.uniform(0.5, 0.8)
        let fg1 = r.colour(avoiding: bgMean, by: 150), fg2 = r.colour(avoiding: fg1, by: 120)
        let texture = r.int(3)  // 0 stripes, 1 checker, 2 blocky noise
        let texAngle = r.uniform(0, .pi)
        let texFreq = r.uniform(1.0, 2.0)
        var noiseGrid = [Double](repeating: 0, count: 36)
        for i in 0..<36 { noiseGrid[i] = r.uniform(0, 1) }

        // Pose at the middle frame and the motion (over the whole clip: a shift of 0.3–0.5 of
        // the frame, a turn of 90–180°, a size change of 1.8–2.8×).
        let theta0 = r.uniform(0, 2 * .pi)
        let radius0 = r.uniform(0.2, 0.28) * S
        let span = Double(max(1, frames - 1))
        let speed = r.uniform(0.3, 0.5) * S / span  // pixels per frame
        let omega = r.uniform(0.5, 1) * .pi / span  // radians per frame
        let logGrowth = log(r.uniform(1.8, 2.8)) / span  // per frame
        // The centre stays inside the middle of the frame for the whole clip: no wrap-around.
        let travel = speed * span / 2
        let lo = 0.2 * S, hi = 0.8 * S
        let cx0 = classIndex < 2 ? r.uniform(lo + travel, hi - travel) : r.uniform(lo, hi)
        let cy0 = (classIndex == 2 || classIndex == 3) ? r.uniform(lo + travel, hi - travel) : r.uniform(lo, hi)

        let fs = size * size * 3
        var out = [UInt8](repeating: 0, count: frames * fs)
        let mid = Double(frames - 1) / 2
        out.withUnsafeMutableBufferPointer { op in
            background.withUnsafeBufferPointer { bp in
                for t in 0..<frames {
                    let dt = Double(t) - mid
                    var cx = cx0, cy = cy0, theta = theta0, radius = radius0
                    switch classIndex {
                    case 0: cx -= speed * dt
                    case 1: cx += speed * dt
                    case 2: cy -= speed * dt  // image y points down: up is −y
                    case 3: cy += speed * dt
                    case 4: theta += omega * dt  // with y down, a growing angle turns clockwise
                    case 5: theta -= omega * dt
                    case 6: radius *= exp(logGrowth * dt)
                    default: radius *= exp(-logGrowth * dt)
                    }
                    let frame = op.baseAddress! + t * fs
                    frame.update(from: bp.baseAddress!, count: fs)
                    let c = cos(theta), s = sin(theta)
                    let inv = 1 / radius
                    let reach = min(radius * 1.2, S / 2 - 0.5)  // the shape fits in 1.2 radii
                    // The box around the actor, cut to the frame (the actor may stick out of it).
                    let x0 = max(0, Int((cx - reach).rounded(.down))), x1 = min(size - 1, Int((cx + reach).rounded(.up)))
                    let y0 = max(0, Int((cy - reach).rounded(.down))), y1 = min(size - 1, Int((cy + reach).rounded(.up)))
                    for y in y0...y1 {
                        let dy = Double(y) + 0.5 - cy
                        for x in x0...x1 {
                            let dx = Double(x) + 0.5 - cx
                            let u = (dx * c + dy * s) * inv
                            let v = (-dx * s + dy * c) * inv
                            let inside: Bool
                            switch shape {
                            case 0: inside = abs(u) <= 0.85 && abs(v) <= 0.85 * aspect
                            case 1: inside = u * u + (v * v) / (aspect * aspect) <= 1
                            case 3: inside = (abs(u) <= 0.9 && abs(v) <= 0.3) || (abs(v) <= 0.9 && abs(u) <= 0.3)
                            default:  // a triangle pointing along +u: (1, 0), (−0.7, ±0.75)
                                inside = u >= -0.7 && abs(v) <= 0.75 * (1 - u) / 1.7
                            }
                            if !inside { continue }
                            let w: Double
                            switch actors == .twoTone ? -1 : texture {
                            case -1:  // two-tone: one straight split through the centre
                                w = u * cos(texAngle) + v * sin(texAngle) < 0 ? 0 : 1
                            case 0:
                                let p = (u * cos(texAngle) + v * sin(texAngle)) * texFreq
                                w = p - p.rounded(.down) < 0.5 ? 0 : 1
                            case 1:
                                let k = texFreq * 1.5
                                w = (Int((u * k + 100).rounded(.down)) + Int((v * k + 100).rounded(.down))) & 1 == 0 ? 0 : 1
                            default:
                                let gx = min(5, max(0, Int((u + 1) * 3))), gy = min(5, max(0, Int((v + 1) * 3)))
                                w = noiseGrid[gy * 6 + gx]
                            }
                            let o = (y * size + x) * 3
                            for ch in 0..<3 {
                                frame[o + ch] = UInt8(max(0, min(255, (fg1[ch] * (1 - w) + fg2[ch] * w).rounded())))
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Writes `classes × clipsPerClass` clips as mp4 files `out/<class>/clip_XXXX.mp4` and the list
    /// files `out/train.csv`, `out/val.csv` (`relative/path label` per line, as the original
    /// VideoMAE) and `out/classes.txt` (one name per line, index order). The last `valPerClass`
    /// clips of each class (default: `valFraction` of them, rounded) go to val.csv.
    @discardableResult
    public static func generate(out: String, classes: Int = 8, clipsPerClass: Int, size: Int = 112,
                                frames: Int = 32, fps: Double = 25, seed: UInt64,
                                valPerClass: Int? = nil, valFraction: Double = 0.2, actors: Actors = .textured,
                                progress: ((Int, Int) -> Void)? = nil) throws -> Summary {
        let start = Date()
        guard (1...classNames.count).contains(classes) else {
            throw Failure(message: "classes must be 1...\(classNames.count) (there are \(classNames.count) synthetic motion classes), not \(classes)")
        }
        guard clipsPerClass >= 1 else { throw Failure(message: "clipsPerClass must be at least 1, not \(clipsPerClass)") }
        guard size >= 16, size <= 1024, size % 2 == 0 else {
            throw Failure(message: "size must be even and in 16...1024, not \(size)")
        }
        guard frames >= 1, frames <= 10_000 else { throw Failure(message: "frames must be in 1...10000, not \(frames)") }
        guard valFraction >= 0, valFraction < 1 else {
            throw Failure(message: "valFraction must be in [0, 1), not \(valFraction)")
        }
        let nVal: Int
        if let v = valPerClass {
            guard v >= 0, v < clipsPerClass else {
                throw Failure(message: "valPerClass must be in 0..<clipsPerClass (\(clipsPerClass)), not \(v)")
            }
            nVal = v
        } else {
            nVal = min(clipsPerClass - 1, Int((Double(clipsPerClass) * valFraction).rounded()))
        }

        let fm = FileManager.default
        let root = URL(fileURLWithPath: out)
        do {
            for c in 0..<classes {
                try fm.createDirectory(at: root.appendingPathComponent(classNames[c]), withIntermediateDirectories: true)
            }
        } catch {
            throw Failure(message: "\(out): cannot create the folders: \(error.localizedDescription)")
        }

        var train = "", val = ""
        var encoder = ""
        var written = 0
        for c in 0..<classes {
            for i in 0..<clipsPerClass {
                let rel = "\(classNames[c])/clip_\(String(format: "%04d", i)).mp4"
                var rng = clipRNG(seed: seed, classIndex: c, clip: i)
                let rgb = render(classIndex: c, size: size, frames: frames, rng: &rng, actors: actors)
                let writer = try VideoWriter(path: root.appendingPathComponent(rel).path,
                                             width: size, height: size, fps: fps)
                try writer.write(frames: rgb, count: frames)
                try writer.close()
                encoder = writer.encoderName
                let line = "\(rel) \(c)\n"
                if i >= clipsPerClass - nVal { val += line } else { train += line }
                written += 1
                progress?(written, classes * clipsPerClass)
            }
        }
        do {
            try train.write(to: root.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
            try val.write(to: root.appendingPathComponent("val.csv"), atomically: true, encoding: .utf8)
            let names = classNames[0..<classes].joined(separator: "\n") + "\n"
            try names.write(to: root.appendingPathComponent("classes.txt"), atomically: true, encoding: .utf8)
        } catch {
            throw Failure(message: "\(out): cannot write the list files: \(error.localizedDescription)")
        }
        return Summary(out: out, classNames: Array(classNames[0..<classes]),
                       trainClips: classes * (clipsPerClass - nVal), valClips: classes * nVal,
                       size: size, frames: frames, encoder: encoder, seconds: Date().timeIntervalSince(start))
    }

    // MARK: - Drawing helpers

    private struct Draw {
        var rng: RNG
        mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * rng.uniformDouble() }
        mutating func int(_ n: Int) -> Int { rng.int(below: n) }
        mutating func colour() -> [Double] { [uniform(0, 255), uniform(0, 255), uniform(0, 255)] }
        /// A random colour at least `by` away (sum of channel differences) from `other`, when one is found.
        mutating func colour(avoiding other: [Double], by: Double) -> [Double] {
            var best = colour(), bestD = -1.0
            for _ in 0..<16 {
                let c = colour()
                let d = abs(c[0] - other[0]) + abs(c[1] - other[1]) + abs(c[2] - other[2])
                if d >= by { return c }
                if d > bestD { best = c; bestD = d }
            }
            return best
        }
    }

    /// A static, smooth background: long sine waves, a linear ramp, a radial glow or a soft
    /// two-way wave — every part predictable from its neighbours, no grain.
    private static func makeBackground(_ r: inout Draw, size: Int, c1: [Double], c2: [Double]) -> [UInt8] {
        let kind = r.int(4)
        let S = Double(size)
        let angle = r.uniform(0, .pi)
        let period = r.uniform(0.5, 1.2) * S
        let phase = r.uniform(0, 2 * .pi)
        let gx = r.uniform(0, S), gy = r.uniform(0, S), reach = r.uniform(0.5, 1) * S
        var img = [UInt8](repeating: 0, count: size * size * 3)
        let ca = cos(angle), sa = sin(angle)
        for y in 0..<size {
            for x in 0..<size {
                let fx = Double(x) + 0.5, fy = Double(y) + 0.5
                var w: Double
                switch kind {
                case 0: w = 0.5 + 0.5 * sin(2 * .pi * (fx * ca + fy * sa) / period + phase)
                case 1: w = (fx * ca + fy * sa) / (S * 1.5) + 0.25
                case 2: w = min(1, ((fx - gx) * (fx - gx) + (fy - gy) * (fy - gy)).squareRoot() / reach)
                default: w = 0.5 + 0.25 * sin(2 * .pi * fx / period + phase) + 0.25 * sin(2 * .pi * fy / period - phase)
                }
                w = max(0, min(1, w))
                let o = (y * size + x) * 3
                for ch in 0..<3 {
                    img[o + ch] = UInt8(max(0, min(255, (c1[ch] * (1 - w) + c2[ch] * w).rounded())))
                }
            }
        }
        return img
    }
}
