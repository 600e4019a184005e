import Foundation
import TensorCore

/// Which tokens each sample hides. Every sample of a batch hides the same number of tokens.
public struct Mask: Equatable {
    /// masked[b][n] is true when token n of sample b is hidden.
    public let masked: [[Bool]]
    /// decoded[b][n] is true when the decoder reconstructs token n (a mask token at its position,
    /// in the loss); nil without decoder masking, when the decoder reconstructs the masked tokens.
    public let decoded: [[Bool]]?

    public init(masked: [[Bool]], decoded: [[Bool]]? = nil) {
        precondition(!masked.isEmpty)
        let c = masked[0].filter { $0 }.count
        precondition(masked.allSatisfy { $0.filter { $0 }.count == c }, "every sample must mask the same number of tokens")
        if let decoded {
            precondition(decoded.count == masked.count && decoded.allSatisfy { $0.count == masked[0].count }, "decoder map does not fit the mask")
            let d = decoded[0].filter { $0 }.count
            precondition(d > 0 && decoded.allSatisfy { $0.filter { $0 }.count == d }, "every sample must decode the same number of tokens")
        }
        self.masked = masked
        self.decoded = decoded
    }

    public var batch: Int { masked.count }
    public var tokens: Int { masked[0].count }
    public var maskedCount: Int { masked[0].filter { $0 }.count }
    public var visibleCount: Int { tokens - maskedCount }

    /// Visible token indices per sample, ascending (the encoder's input order).
    public var visibleIndex: [[Int]] { masked.map { m in m.indices.filter { !m[$0] } } }
    /// Masked token indices per sample, ascending (the decoder predicts them in this order).
    public var maskedIndex: [[Int]] { masked.map { m in m.indices.filter { m[$0] } } }
    /// The tokens the decoder reconstructs per sample, ascending (its output order): the masked
    /// ones, or with decoder masking the positions its map keeps.
    public var decodedIndex: [[Int]] { decoded.map { d in d.map { m in m.indices.filter { m[$0] } } } ?? maskedIndex }
    public var decodedCount: Int { decoded.map { $0[0].filter { $0 }.count } ?? maskedCount }
}

public enum MaskType: String, Codable, CaseIterable {
    case tube, random
}

/// Draws masks as the original VideoMAE: `tube` hides `int(ratio·Ns)` of the Ns spatial
/// positions, the same ones in every temporal group; `random` hides `int(ratio·N)` of all tokens.
public struct MaskGenerator {
    public let type: MaskType
    public let ratio: Double
    public let temporalGroups: Int
    public let spatialTokens: Int

    public init(type: MaskType, ratio: Double, temporalGroups: Int, spatialTokens: Int) {
        self.type = type
        self.ratio = ratio
        self.temporalGroups = temporalGroups
        self.spatialTokens = spatialTokens
    }

    public init(_ type: MaskType, ratio: Double, config: ModelConfig) {
        self.init(type: type, ratio: ratio, temporalGroups: config.temporalGroups, spatialTokens: config.spatialTokens)
    }

    public var tokens: Int { temporalGroups * spatialTokens }
    public var maskedCount: Int {
        type == .tube ? Int(ratio * Double(spatialTokens)) * temporalGroups : Int(ratio * Double(tokens))
    }

    /// One sample's mask.
    public func sample(_ rng: inout RNG) -> [Bool] {
        switch type {
        case .tube:
            let k = Int(ratio * Double(spatialTokens))
            let perm = rng.permutation(spatialTokens)
            var spatial = [Bool](repeating: false, count: spatialTokens)
            for i in 0..<k { spatial[perm[i]] = true }
            var m: [Bool] = []
            m.reserveCapacity(tokens)
            for _ in 0..<temporalGroups { m += spatial }
            return m
        case .random:
            let k = Int(ratio * Double(tokens))
            let perm = rng.permutation(tokens)
            var m = [Bool](repeating: false, count: tokens)
            for i in 0..<k { m[perm[i]] = true }
            return m
        }
    }

    /// A batch of masks, one generator per sample (so a sample's mask depends on its own stream).
    public func batch(_ rngs: inout [RNG]) -> Mask {
        Mask(masked: rngs.indices.map { sample(&rngs[$0]) })
    }

    public func batch(count: Int, rng: inout RNG) -> Mask {
        Mask(masked: (0..<count).map { _ in sample(&rng) })
    }
}
