import Foundation

/// Layer-wise learning-rate decay as the original VideoMAE's fine-tuning (BEiT's
/// `LayerDecayValueAssigner` with `get_layer_id_for_vit`), for the classifier's parameter names:
///
///   num_layers = depth + 1
///   layer_id   = 0 for patch_embed.*,  i + 1 for blocks.{i}.*,  num_layers for fc_norm.* / head.*
///                (and anything else)
///   scale      = layer_decay ^ (num_layers − layer_id)
///
/// So the head trains at the full rate, the last block at `decay`, …, the patch embedding at
/// `decay^(depth+1)`. With layer_decay 1 every scale is 1.
public struct LayerDecay: Equatable {
    public let depth: Int
    public let decay: Double

    public init(depth: Int, decay: Double) {
        self.depth = depth
        self.decay = decay
    }

    public var numLayers: Int { depth + 1 }

    /// The layer a classifier parameter belongs to.
    public func layerId(_ name: String) -> Int {
        if name.hasPrefix("patch_embed.") || name == "cls_token" || name == "pos_embed" || name == "mask_token" { return 0 }
        if name.hasPrefix("blocks.") {
            let rest = name.dropFirst("blocks.".count)
            if let i = Int(rest.prefix { $0.isNumber }) { return min(i + 1, numLayers) }
        }
        return numLayers
    }

    /// The learning-rate multiplier of a parameter.
    public func scale(_ name: String) -> Float {
        Float(pow(decay, Double(numLayers - layerId(name))))
    }
}
