import ExitStatus
import Foundation

/// `vmae tokens`: how many tokens a clip makes and how many query–key pairs one attention
/// layer scores (per head) under joint, divided and spatial-only attention: the quadratic wall.
///   T  = frames / tubelet            temporal groups
///   Ns = (size / patch)²             spatial tokens per group
///   N  = T · Ns                      tokens
///   joint:        N²                 every token attends to every token
///   divided:      Ns²·T + T²·Ns      spatial attention within each group + temporal at each position
///   spatial-only: Ns²·T              no attention across time at all
public enum TokenCalculator {
    public struct Count: Codable, Equatable {
        public var frames: Int
        public var size: Int
        public var patch: Int
        public var tubelet: Int
        /// T = frames / tubelet
        public var temporal_groups: Int
        /// Ns = (size / patch)²
        public var spatial_tokens: Int
        /// N = T · Ns
        public var tokens: Int
        public var joint_pairs: Int
        public var divided_pairs: Int
        public var spatial_pairs: Int
        public var divided_ratio: Double
        public var spatial_ratio: Double
    }

    /// Pair counts of the seed's formula for T temporal groups of Ns spatial tokens.
    public static func pairs(groups t: Int, spatial ns: Int) -> (joint: Int, divided: Int, spatial: Int) {
        let n = t * ns
        return (n * n, ns * ns * t + t * t * ns, ns * ns * t)
    }

    /// The counts for a clip, or a `UserError` naming the option that does not fit.
    public static func count(frames: Int, size: Int, patch: Int, tubelet: Int) throws -> Count {
        for (k, v) in [("--frames", frames), ("--size", size), ("--patch", patch), ("--tubelet", tubelet)] where v <= 0 {
            throw UserError("\(k): must be positive, got \(v)")
        }
        guard size % patch == 0 else { throw UserError("--size: \(size) is not a multiple of --patch \(patch)") }
        guard frames % tubelet == 0 else { throw UserError("--frames: \(frames) is not a multiple of --tubelet \(tubelet)") }
        let t = frames / tubelet, side = size / patch, ns = side * side
        // N² must fit in 64 bits (it does for anything that fits in memory; refuse the absurd)
        guard t <= 1 << 20, ns <= 1 << 20, Double(t * ns) * Double(t * ns) < 9e18 else {
            throw UserError("--frames/--size: \(t)·\(ns) tokens are too many to count pairs for")
        }
        let p = pairs(groups: t, spatial: ns)
        return Count(frames: frames, size: size, patch: patch, tubelet: tubelet, temporal_groups: t, spatial_tokens: ns,
                     tokens: t * ns, joint_pairs: p.joint, divided_pairs: p.divided, spatial_pairs: p.spatial,
                     divided_ratio: Double(p.divided) / Double(p.joint), spatial_ratio: Double(p.spatial) / Double(p.joint))
    }

    /// 9834496 → "9,834,496"
    public static func grouped(_ v: Int) -> String {
        let s = String(abs(v))
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (v < 0 ? "-" : "") + out
    }

    /// The human-readable report.
    public static func table(_ c: Count) -> String {
        var lines: [String] = []
        lines.append("clip \(c.frames) frames × \(c.size)×\(c.size) px, patch \(c.patch), tubelet \(c.tubelet)")
        lines.append("temporal groups T = \(c.frames)/\(c.tubelet) = \(c.temporal_groups), spatial tokens Ns = (\(c.size)/\(c.patch))² = \(c.spatial_tokens), tokens N = T·Ns = \(grouped(c.tokens))")
        lines.append("")
        lines.append("attention pairs per layer and head:")
        func row(_ name: String, _ formula: String, _ v: Int, _ r: Double) -> String {
            let fewer = r > 0 && r < 1 ? String(format: "  (%.1f× fewer)", 1 / r) : ""
            return name.padding(toLength: 14, withPad: " ", startingAt: 0)
                + formula.padding(toLength: 16, withPad: " ", startingAt: 0)
                + tokenTableLeftPad(grouped(v), 18) + String(format: "  %8.4f× joint", r) + fewer
        }
        lines.append(row("joint", "N²", c.joint_pairs, 1))
        lines.append(row("divided", "Ns²·T + T²·Ns", c.divided_pairs, c.divided_ratio))
        lines.append(row("spatial-only", "Ns²·T", c.spatial_pairs, c.spatial_ratio))
        return lines.joined(separator: "\n")
    }
}

/// `s` right-aligned in `width` columns.
func tokenTableLeftPad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}
