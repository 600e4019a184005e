import TensorCore

/// VideoMAE V2's decoder masking (dual masking): the running-cell map of V2's
/// `RunningCellMaskingGenerator`. Each 2×2 cell of a frame's token grid drops `int(4·ratio)` of
/// its tokens from the decoder; the pattern is a queue (`int(4·ratio)` ones, then zeros) read
/// from a pointer that moves one step per temporal group, so the dropped positions "run" through
/// the cell over time. A sample draws one of the 4 starting pointers.
/// As V2's code (its data pipeline draws this map independently of the encoder mask, and its
/// model puts mask tokens at the positions the map keeps), the decoder gets the encoder's visible
/// tokens plus a mask token at every kept position, and the loss is over the kept positions.
public struct RunningCellMask {
    public let ratio: Double
    public let temporalGroups: Int
    public let rows: Int
    public let cols: Int
    /// dropped[pointer][n]: token n is not reconstructed, for each of the 4 starting pointers
    let dropped: [[Bool]]

    /// Why `ratio` cannot make a running-cell map of this grid (nil when it can).
    public static func problem(ratio: Double, rows: Int, cols: Int) -> String? {
        let m = Int(4 * ratio)
        if !(m > 0 && m < 4) { return "must be 0 (off) or in [0.25, 1) so a 2×2 cell drops 1 to 3 tokens, got \(ratio)" }
        if rows % 2 != 0 || cols % 2 != 0 {
            return "running-cell masking needs an even token grid (input_size / patch_size), got \(rows)×\(cols)"
        }
        return nil
    }

    public init(ratio: Double, temporalGroups: Int, rows: Int, cols: Int) {
        precondition(Self.problem(ratio: ratio, rows: rows, cols: cols) == nil, Self.problem(ratio: ratio, rows: rows, cols: cols)!)
        self.ratio = ratio
        self.temporalGroups = temporalGroups
        self.rows = rows
        self.cols = cols
        let m = Int(4 * ratio)
        let queue = (0..<4).map { $0 < m }
        dropped = (0..<4).map { start in
            var map: [Bool] = []
            map.reserveCapacity(temporalGroups * rows * cols)
            var ptr = start
            for _ in 0..<temporalGroups {
                ptr += 1  // V2 runs the cell before reading it
                for y in 0..<rows {
                    for x in 0..<cols { map.append(queue[((y % 2) * 2 + x % 2 + ptr) % 4]) }
                }
            }
            return map
        }
    }

    public init(ratio: Double, config: ModelConfig) {
        let side = config.img_size / config.patch_size
        self.init(ratio: ratio, temporalGroups: config.temporalGroups, rows: side, cols: side)
    }

    public var tokens: Int { temporalGroups * rows * cols }
    /// Tokens the decoder reconstructs per sample.
    public var keptCount: Int { tokens - dropped[0].filter { $0 }.count }

    /// The decoder's map for one starting pointer: true where the token is reconstructed.
    public func kept(pointer: Int) -> [Bool] { dropped[pointer].map { !$0 } }

    /// One sample's map (a uniformly drawn starting pointer).
    public func sample(_ rng: inout RNG) -> [Bool] { kept(pointer: Int(rng.next() % 4)) }

    /// `mask` with a decoder map per sample, each drawn from that sample's generator.
    public func apply(to mask: Mask, _ rngs: inout [RNG]) -> Mask {
        Mask(masked: mask.masked, decoded: rngs.indices.map { sample(&rngs[$0]) })
    }

    public func apply(to mask: Mask, rng: inout RNG) -> Mask {
        Mask(masked: mask.masked, decoded: (0..<mask.batch).map { _ in sample(&rng) })
    }
}
