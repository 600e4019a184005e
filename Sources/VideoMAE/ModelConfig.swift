import Foundation

/// The model's shape, under the keys of the design's fixture config (the original VideoMAE's
/// argument names). A preset fills widths, depths and heads.
public struct ModelConfig: Codable, Equatable {
    public var img_size = 224
    public var num_frames = 16
    public var patch_size = 16
    public var tubelet_size = 2
    public var in_chans = 3
    public var encoder_embed_dim = 384
    public var encoder_depth = 12
    public var encoder_num_heads = 6
    public var decoder_embed_dim = 192
    public var decoder_depth = 4
    public var decoder_num_heads = 3
    public var mlp_ratio = 4.0
    public var qkv_bias = true
    public var layer_norm_eps = 1e-6
    public var num_classes = 400
    public var use_mean_pooling = true
    public var normalize_target = true
    public var drop_path_rate = 0.0
    /// "joint" (the original VideoMAE: every block attends over all its tokens) or "divided"
    /// (TimeSformer's divided space-time encoder blocks; the decoder stays joint).
    public var attention = "joint"

    public init() {}

    enum CodingKeys: String, CodingKey {
        case img_size, num_frames, patch_size, tubelet_size, in_chans, encoder_embed_dim, encoder_depth, encoder_num_heads, decoder_embed_dim, decoder_depth, decoder_num_heads, mlp_ratio, qkv_bias, layer_norm_eps, num_classes, use_mean_pooling, normalize_target, drop_path_rate, attention
    }

    /// Missing keys keep their defaults (a fixture's config has no drop_path_rate, say).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let v = try c.decodeIfPresent(type(of: img_size), forKey: .img_size) { img_size = v }
        if let v = try c.decodeIfPresent(type(of: num_frames), forKey: .num_frames) { num_frames = v }
        if let v = try c.decodeIfPresent(type(of: patch_size), forKey: .patch_size) { patch_size = v }
        if let v = try c.decodeIfPresent(type(of: tubelet_size), forKey: .tubelet_size) { tubelet_size = v }
        if let v = try c.decodeIfPresent(type(of: in_chans), forKey: .in_chans) { in_chans = v }
        if let v = try c.decodeIfPresent(type(of: encoder_embed_dim), forKey: .encoder_embed_dim) { encoder_embed_dim = v }
        if let v = try c.decodeIfPresent(type(of: encoder_depth), forKey: .encoder_depth) { encoder_depth = v }
        if let v = try c.decodeIfPresent(type(of: encoder_num_heads), forKey: .encoder_num_heads) { encoder_num_heads = v }
        if let v = try c.decodeIfPresent(type(of: decoder_embed_dim), forKey: .decoder_embed_dim) { decoder_embed_dim = v }
        if let v = try c.decodeIfPresent(type(of: decoder_depth), forKey: .decoder_depth) { decoder_depth = v }
        if let v = try c.decodeIfPresent(type(of: decoder_num_heads), forKey: .decoder_num_heads) { decoder_num_heads = v }
        if let v = try c.decodeIfPresent(type(of: mlp_ratio), forKey: .mlp_ratio) { mlp_ratio = v }
        if let v = try c.decodeIfPresent(type(of: qkv_bias), forKey: .qkv_bias) { qkv_bias = v }
        if let v = try c.decodeIfPresent(type(of: layer_norm_eps), forKey: .layer_norm_eps) { layer_norm_eps = v }
        if let v = try c.decodeIfPresent(type(of: num_classes), forKey: .num_classes) { num_classes = v }
        if let v = try c.decodeIfPresent(type(of: use_mean_pooling), forKey: .use_mean_pooling) { use_mean_pooling = v }
        if let v = try c.decodeIfPresent(type(of: normalize_target), forKey: .normalize_target) { normalize_target = v }
        if let v = try c.decodeIfPresent(type(of: drop_path_rate), forKey: .drop_path_rate) { drop_path_rate = v }
        if let v = try c.decodeIfPresent(type(of: attention), forKey: .attention) { attention = v }
    }

    /// Whether the encoder uses divided space-time blocks.
    public var dividedAttention: Bool { attention == "divided" }

    /// Presets as the original VideoMAE (encoder width/depth/heads, decoder width/depth/heads).
    public static let presets: [String: (Int, Int, Int, Int, Int, Int)] = [
        "vit-tiny": (192, 12, 3, 96, 4, 3),
        "vit-small": (384, 12, 6, 192, 4, 3),
        "vit-base": (768, 12, 12, 384, 4, 6),
        "vit-large": (1024, 24, 16, 512, 4, 8),
    ]

    public static func preset(_ name: String) -> ModelConfig? {
        guard let p = presets[name] else { return nil }
        var c = ModelConfig()
        c.applyPreset(p)
        return c
    }

    public mutating func applyPreset(_ p: (Int, Int, Int, Int, Int, Int)) {
        (encoder_embed_dim, encoder_depth, encoder_num_heads, decoder_embed_dim, decoder_depth, decoder_num_heads) = p
    }

    public var temporalGroups: Int { num_frames / tubelet_size }
    public var spatialTokens: Int { (img_size / patch_size) * (img_size / patch_size) }
    /// N = (T/t)·(H/p)·(W/p)
    public var tokens: Int { temporalGroups * spatialTokens }
    /// C·t·p·p: pixels per tubelet (the decoder head's width).
    public var tubeletPixels: Int { in_chans * tubelet_size * patch_size * patch_size }

    /// The impossible values, with the key that holds them (empty when all is well).
    public func problems(prefix: String = "model.") -> [String] {
        var out: [String] = []
        func need(_ ok: Bool, _ key: String, _ why: String) { if !ok { out.append("\(prefix)\(key): \(why)") } }
        for (k, v) in [("img_size", img_size), ("num_frames", num_frames), ("patch_size", patch_size),
                       ("tubelet_size", tubelet_size), ("in_chans", in_chans), ("encoder_embed_dim", encoder_embed_dim),
                       ("encoder_depth", encoder_depth), ("encoder_num_heads", encoder_num_heads),
                       ("decoder_embed_dim", decoder_embed_dim), ("decoder_num_heads", decoder_num_heads),
                       ("num_classes", num_classes)] {
            need(v > 0, k, "must be positive, got \(v)")
        }
        need(decoder_depth >= 0, "decoder_depth", "must not be negative, got \(decoder_depth)")
        if out.isEmpty {
            need(img_size % patch_size == 0, "img_size", "\(img_size) is not a multiple of patch_size \(patch_size)")
            need(num_frames % tubelet_size == 0, "num_frames", "\(num_frames) is not a multiple of tubelet_size \(tubelet_size)")
            need(encoder_embed_dim % encoder_num_heads == 0, "encoder_num_heads",
                 "\(encoder_num_heads) heads do not divide encoder_embed_dim \(encoder_embed_dim)")
            need(decoder_embed_dim % decoder_num_heads == 0, "decoder_num_heads",
                 "\(decoder_num_heads) heads do not divide decoder_embed_dim \(decoder_embed_dim)")
        }
        need(mlp_ratio > 0, "mlp_ratio", "must be positive, got \(mlp_ratio)")
        need(layer_norm_eps > 0, "layer_norm_eps", "must be positive, got \(layer_norm_eps)")
        need(drop_path_rate >= 0 && drop_path_rate < 1, "drop_path_rate", "must be in [0, 1), got \(drop_path_rate)")
        need(attention == "joint" || attention == "divided", "attention", "must be \"joint\" or \"divided\", got \"\(attention)\"")
        return out
    }
}
