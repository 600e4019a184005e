import ExitStatus
import Foundation
import RunConfig
import VideoMAE

/// A Hugging Face `VideoMAEConfig` (config.json), with transformers' defaults for absent keys.
public struct HFVideoMAEConfig {
    public var imageSize = 224, patchSize = 16, numChannels = 3, numFrames = 16, tubeletSize = 2
    public var hiddenSize = 768, numHiddenLayers = 12, numAttentionHeads = 12, intermediateSize = 3072
    public var hiddenAct = "gelu"
    public var layerNormEps = 1e-12
    public var qvBias = true
    public var useMeanPooling = true
    public var decoderHiddenSize = 384, decoderNumHiddenLayers = 4, decoderNumAttentionHeads = 6, decoderIntermediateSize = 1536
    public var normPixLoss = true
    public var architectures: [String] = []
    /// id2label in label order (nil when the config has neither id2label nor num_labels).
    public var labels: [String]?

    public init() {}

    /// Reads the keys vmae uses; a wrong type or an impossible value is a `UserError` naming the key.
    public init(json d: [String: Any], source: String) throws {
        func fail(_ key: String, _ why: String) -> UserError { UserError("\(source): \(key): \(why)") }
        if let mt = d["model_type"], (mt as? String) != "videomae" {
            throw fail("model_type", "\(TrainConfig.describe(mt)) is not a VideoMAE config (\"videomae\")")
        }
        func int(_ key: String, _ v: inout Int, min: Int = 1) throws {
            guard let x = d[key], !(x is NSNull) else { return }
            guard let i = SafetensorsFile.exactInt(x) else { throw fail(key, "must be an integer, got \(TrainConfig.describe(x))") }
            guard i >= min else { throw fail(key, "must be at least \(min), got \(i)") }
            v = i
        }
        func square(_ key: String, _ v: inout Int) throws {
            if let arr = d[key] as? [Any] {
                let vals = arr.compactMap(SafetensorsFile.exactInt)
                guard vals.count == arr.count, vals.count == 2, vals[0] == vals[1], vals[0] > 0 else {
                    throw fail(key, "\(TrainConfig.describe(arr)): vmae takes square frames and patches (one positive size)")
                }
                v = vals[0]
            } else {
                try int(key, &v)
            }
        }
        func bool(_ key: String, _ v: inout Bool) throws {
            guard let x = d[key], !(x is NSNull) else { return }
            guard JSONKind.of(x) == .bool, let b = x as? Bool else { throw fail(key, "must be true or false, got \(TrainConfig.describe(x))") }
            v = b
        }
        try square("image_size", &imageSize)
        try square("patch_size", &patchSize)
        try int("num_channels", &numChannels)
        try int("num_frames", &numFrames)
        try int("tubelet_size", &tubeletSize)
        try int("hidden_size", &hiddenSize)
        try int("num_hidden_layers", &numHiddenLayers)
        try int("num_attention_heads", &numAttentionHeads)
        try int("intermediate_size", &intermediateSize)
        try int("decoder_hidden_size", &decoderHiddenSize)
        try int("decoder_num_hidden_layers", &decoderNumHiddenLayers, min: 0)
        try int("decoder_num_attention_heads", &decoderNumAttentionHeads)
        try int("decoder_intermediate_size", &decoderIntermediateSize)
        try bool("qkv_bias", &qvBias)        // transformers 4.x spelling
        try bool("qv_bias", &qvBias)         // 5.x
        try bool("use_mean_pooling", &useMeanPooling)
        try bool("norm_pix_loss", &normPixLoss)
        if let x = d["layer_norm_eps"], !(x is NSNull) {
            guard JSONKind.of(x) == .number || JSONKind.of(x) == .int, let e = (x as? NSNumber)?.doubleValue, e > 0, e < 1 else {
                throw fail("layer_norm_eps", "must be a number in (0, 1), got \(TrainConfig.describe(x))")
            }
            layerNormEps = e
        }
        if let x = d["hidden_act"], !(x is NSNull) {
            guard let s = x as? String else { throw fail("hidden_act", "must be a string, got \(TrainConfig.describe(x))") }
            hiddenAct = s
        }
        guard hiddenAct == "gelu" else {
            throw fail("hidden_act", "\"\(hiddenAct)\": vmae's blocks use the exact (erf) GELU, \"gelu\", only")
        }
        if let a = d["architectures"] as? [Any] { architectures = a.compactMap { $0 as? String } }
        if let m = d["id2label"] as? [String: Any], !m.isEmpty {
            var byIndex: [Int: String] = [:]
            for (k, v) in m {
                guard let i = Int(k), i >= 0, i < m.count else { throw fail("id2label", "keys must be 0..\(m.count - 1), got \"\(k)\"") }
                byIndex[i] = (v as? String) ?? "\(v)"
            }
            labels = (0..<m.count).map { byIndex[$0]! }
        } else if let x = d["num_labels"], let k = SafetensorsFile.exactInt(x), k > 0 {
            labels = (0..<k).map { "LABEL_\($0)" }
        }
        // what the model could not be built from
        func need(_ ok: Bool, _ key: String, _ why: String) throws { if !ok { throw fail(key, why) } }
        try need(imageSize % patchSize == 0, "image_size", "\(imageSize) is not a multiple of patch_size \(patchSize)")
        try need(numFrames % tubeletSize == 0, "num_frames", "\(numFrames) is not a multiple of tubelet_size \(tubeletSize)")
        try need(hiddenSize % numAttentionHeads == 0, "num_attention_heads",
                 "\(numAttentionHeads) heads do not divide hidden_size \(hiddenSize)")
        try need(decoderHiddenSize % decoderNumAttentionHeads == 0, "decoder_num_attention_heads",
                 "\(decoderNumAttentionHeads) heads do not divide decoder_hidden_size \(decoderHiddenSize)")
    }

    public var isClassifier: Bool { architectures.contains { $0.hasSuffix("ForVideoClassification") } }

    /// vmae's one mlp_ratio: intermediate_size / hidden_size, nudged so that Int(D · ratio) is exactly it.
    public var mlpRatio: Double {
        var r = Double(intermediateSize) / Double(hiddenSize)
        for _ in 0..<4 where Int(Double(hiddenSize) * r) < intermediateSize { r = r.nextUp }
        return r
    }
}
