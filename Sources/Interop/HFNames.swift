import Foundation

/// Where one source tensor lands in vmae: a vmae parameter in its pretraining-model spelling
/// (`encoder.…`, `decoder.…`, `encoder_to_decoder.weight`, `mask_token`; the classifier's
/// `fc_norm.*` and `head.*`), and for the three parts of a fused qkv weight, which one
/// (0 query, 1 key, 2 value: the rows of `attn.qkv.weight` in that order).
public struct NativeSlot: Hashable, CustomStringConvertible {
    public let name: String
    public let part: Int?
    public var description: String { part.map { "\(name)[\(["q", "k", "v"][$0])]" } ?? name }
}

/// The one rule table between Hugging Face transformers' VideoMAE names and vmae's (the
/// original VideoMAE's). Import reads every spelling below; export writes the first spelling
/// of each (what `save_pretrained` writes: `q_bias`/`v_bias`, the `videomae.` prefix).
public enum HFNames {
    /// Inside a transformer block: HF suffix → native suffix (part: the slice of the fused qkv).
    public static let blockRules: [(hf: String, native: String, part: Int?)] = [
        ("layernorm_before.weight", "norm1.weight", nil),
        ("layernorm_before.bias", "norm1.bias", nil),
        ("attention.attention.query.weight", "attn.qkv.weight", 0),
        ("attention.attention.key.weight", "attn.qkv.weight", 1),
        ("attention.attention.value.weight", "attn.qkv.weight", 2),
        ("attention.attention.q_bias", "attn.q_bias", nil),           // transformers 4.x, and what 5.x saves
        ("attention.attention.query.bias", "attn.q_bias", nil),       // transformers 5.x in memory
        ("attention.attention.v_bias", "attn.v_bias", nil),
        ("attention.attention.value.bias", "attn.v_bias", nil),
        ("attention.output.dense.weight", "attn.proj.weight", nil),
        ("attention.output.dense.bias", "attn.proj.bias", nil),
        ("layernorm_after.weight", "norm2.weight", nil),
        ("layernorm_after.bias", "norm2.bias", nil),
        ("intermediate.dense.weight", "mlp.fc1.weight", nil),
        ("intermediate.dense.bias", "mlp.fc1.bias", nil),
        ("output.dense.weight", "mlp.fc2.weight", nil),
        ("output.dense.bias", "mlp.fc2.bias", nil),
    ]

    /// The native block suffixes (the original's names, read as they are).
    public static let nativeBlockSuffixes: Set<String> = [
        "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.q_bias", "attn.v_bias", "attn.proj.weight", "attn.proj.bias",
        "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias",
    ]

    /// Where blocks live: source prefix (followed by `{i}.`) → native prefix; `hf` says which
    /// suffix table applies.
    public static let blockPrefixes: [(source: String, native: String, hf: Bool)] = [
        ("videomae.encoder.layer.", "encoder.blocks.", true),       // VideoMAEForPreTraining / …ForVideoClassification
        ("decoder.decoder_layers.", "decoder.blocks.", true),
        ("encoder.layer.", "encoder.blocks.", true),                // VideoMAEModel (no "videomae." prefix)
        ("encoder.blocks.", "encoder.blocks.", false),              // original, pretraining
        ("decoder.blocks.", "decoder.blocks.", false),
        ("blocks.", "encoder.blocks.", false),                      // original, fine-tuned
    ]

    /// Outside the blocks: source name → native name. A key ending in "." is a prefix followed
    /// by `weight` or `bias`.
    public static let plainRules: [(source: String, native: String)] = [
        ("videomae.embeddings.patch_embeddings.projection.", "encoder.patch_embed.proj."),
        ("videomae.layernorm.", "encoder.norm."),
        ("encoder_to_decoder.weight", "encoder_to_decoder.weight"),
        ("mask_token", "mask_token"),
        ("decoder.norm.", "decoder.norm."),
        ("decoder.head.", "decoder.head."),
        ("fc_norm.", "fc_norm."),
        ("classifier.", "head."),
        ("embeddings.patch_embeddings.projection.", "encoder.patch_embed.proj."),   // VideoMAEModel
        ("layernorm.", "encoder.norm."),
        ("encoder.patch_embed.proj.", "encoder.patch_embed.proj."),                 // original names
        ("encoder.norm.", "encoder.norm."),
        ("patch_embed.proj.", "encoder.patch_embed.proj."),
        ("norm.", "encoder.norm."),
        ("head.", "head."),
    ]

    /// The native slot of a source name (HF or original spelling); nil when no rule applies.
    public static func native(_ name: String) -> NativeSlot? {
        for r in plainRules {
            if r.source.hasSuffix(".") {
                if name.hasPrefix(r.source) {
                    let rest = name.dropFirst(r.source.count)
                    if rest == "weight" || rest == "bias" { return NativeSlot(name: r.native + rest, part: nil) }
                }
            } else if name == r.source {
                return NativeSlot(name: r.native, part: nil)
            }
        }
        for p in blockPrefixes where name.hasPrefix(p.source) {
            let rest = name.dropFirst(p.source.count)
            guard let dot = rest.firstIndex(of: "."), let i = Int(rest[..<dot]), i >= 0,
                  String(i) == rest[..<dot] else { continue }
            let suffix = String(rest[rest.index(after: dot)...])
            if p.hf {
                if let r = blockRules.first(where: { $0.hf == suffix }) { return NativeSlot(name: "\(p.native)\(i).\(r.native)", part: r.part) }
            } else if nativeBlockSuffixes.contains(suffix) {
                return NativeSlot(name: "\(p.native)\(i).\(suffix)", part: nil)
            }
        }
        return nil
    }

    /// The pretraining-model spelling of a classifier parameter (`blocks.0.…` → `encoder.blocks.0.…`).
    public static func canonical(classifierName n: String) -> String {
        (n.hasPrefix("patch_embed.") || n.hasPrefix("blocks.")) ? "encoder." + n : n
    }

    /// The Hugging Face names a native tensor is written under (three for a fused qkv weight),
    /// as `save_pretrained` of VideoMAEForPreTraining / VideoMAEForVideoClassification writes them.
    public static func hf(_ canonicalName: String) -> [(name: String, part: Int?)]? {
        for p in blockPrefixes where p.hf && p.source != "encoder.layer." && canonicalName.hasPrefix(p.native) {
            let rest = canonicalName.dropFirst(p.native.count)
            guard let dot = rest.firstIndex(of: "."), let i = Int(rest[..<dot]) else { return nil }
            let suffix = String(rest[rest.index(after: dot)...])
            var seen = Set<Int>()
            var out: [(String, Int?)] = []
            var done = false
            for r in blockRules where r.native == suffix {
                if let part = r.part {
                    if seen.insert(part).inserted { out.append(("\(p.source)\(i).\(r.hf)", part)) }
                } else if !done {
                    out.append(("\(p.source)\(i).\(r.hf)", nil))
                    done = true
                }
            }
            return out.isEmpty ? nil : out
        }
        for r in plainRules {
            if r.native.hasSuffix(".") {
                if canonicalName.hasPrefix(r.native) {
                    let rest = canonicalName.dropFirst(r.native.count)
                    if rest == "weight" || rest == "bias" { return [(r.source + rest, nil)] }
                }
            } else if canonicalName == r.native {
                return [(r.source, nil)]
            }
        }
        return nil
    }

    /// The part of the model a native slot belongs to.
    public enum Group: String, CaseIterable {
        case encoder = "encoder (patch_embed, blocks)"
        case encoderNorm = "encoder.norm"
        case decoder = "decoder (encoder_to_decoder, mask_token, decoder.*)"
        case classifierHead = "classifier head (fc_norm, head)"
    }

    public static func group(_ canonicalName: String) -> Group {
        if canonicalName.hasPrefix("encoder.norm.") { return .encoderNorm }
        if canonicalName.hasPrefix("encoder.") { return .encoder }
        if canonicalName.hasPrefix("fc_norm.") || canonicalName.hasPrefix("head.") { return .classifierHead }
        return .decoder
    }
}
