import Foundation

/// A small, fast, seedable generator (xoshiro256**) whose whole state is four integers, so a
/// checkpoint can store it and a resumed run draws exactly the same numbers.
public struct RNG: Equatable, Codable {
    public var state: [UInt64]  // 4 words

    public init(seed: UInt64) {
        var s = seed
        state = (0..<4).map { _ in RNG.splitmix(&s) }
    }

    /// A generator for a stream named by several integers, e.g. (seed, epoch, index):
    /// what a sample gets then depends on those numbers only.
    public init(_ parts: UInt64...) {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        for p in parts { var x = h ^ p; h = RNG.splitmix(&x) &+ p &* 0xBF58_476D_1CE4_E5B9 }
        self.init(seed: h)
    }

    public init(state: [UInt64]) {
        precondition(state.count == 4)
        self.state = state
    }

    @inline(__always)
    static func splitmix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]; state[3] ^= state[1]; state[1] ^= state[2]; state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1).
    @inline(__always)
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    @inline(__always)
    public mutating func uniformDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// Standard normal (Box–Muller, one of the pair).
    public mutating func normal() -> Float { Float(normalDouble()) }

    /// Standard normal in double precision (Box–Muller, one of the pair).
    public mutating func normalDouble() -> Double {
        var u1 = uniformDouble()
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = uniformDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Uniform integer in 0..<n.
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0)
        return Int(next() % UInt64(n))
    }

    /// A random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, int(below: i + 1)) } }
        return p
    }

    public mutating func fillUniform(_ t: Tensor, low: Float, high: Float) {
        let p = t.data
        for i in 0..<t.count { p[i] = low + (high - low) * uniform() }
    }

    public mutating func fillNormal(_ t: Tensor, mean: Float = 0, std: Float = 1) {
        let p = t.data
        for i in 0..<t.count { p[i] = mean + std * normal() }
    }

    /// Truncated normal on [mean-2std, mean+2std] by rejection (as timm's trunc_normal_ with a=-2std, b=2std).
    public mutating func fillTruncatedNormal(_ t: Tensor, std: Float) {
        let p = t.data
        for i in 0..<t.count {
            var v: Float
            repeat { v = normal() } while abs(v) > 2
            p[i] = v * std
        }
    }
}
