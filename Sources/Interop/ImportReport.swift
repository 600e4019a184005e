import Foundation

/// What an import did: the lists the user sees, and the notes on what differs from the source.
public struct ImportReport {
    public var source = ""
    public var configSource = ""
    public var kind = ""                 // "VideoMAEForPreTraining", "original VideoMAE names", …
    public var dtypes = ""
    public var task = ""
    public var model = ""
    public var sourceTensors = 0
    /// vmae parameters filled from the source (vmae names).
    public var loaded: [String] = []
    /// vmae parameters the source does not have, initialized fresh (vmae names).
    public var missing: [String] = []
    /// Source tensors the model has no use for (source names).
    public var unused: [String] = []
    public var warnings: [String] = []
    public var notes: [String] = []
    public var parameters = 0

    public func lines(out: String?) -> [String] {
        var l = ["import \(source) (\(kind); \(sourceTensors) tensors, \(dtypes)); config from \(configSource)",
                 "  model: \(model)",
                 "  loaded \(loaded.count) vmae tensors: \(NameList.compact(loaded))",
                 "  missing (not in the source, initialized fresh): \(missing.count)\(missing.isEmpty ? "" : ": " + NameList.compact(missing))",
                 "  unused (in the source, not in the model): \(unused.count)\(unused.isEmpty ? "" : ": " + NameList.compact(unused))"]
        l += warnings.map { "  warning: " + $0 } + notes.map { "  note: " + $0 }
        if let out { l.append("wrote \(out): task \(task), step 0, \(parameters) parameters (optimizer moments zero)") }
        return l
    }
}

/// Short lists of parameter names: `encoder.blocks.0-11.*` for runs of blocks.
enum NameList {
    static func compact(_ names: [String], limit: Int = 12) -> String {
        var order: [String] = []
        var blocks: [String: Set<Int>] = [:]
        var seen = Set<String>()
        let pattern = ["videomae.encoder.layer.", "decoder.decoder_layers.", "encoder.layer.", "encoder.blocks.", "decoder.blocks.", "blocks."]
        outer: for n in names {
            for p in pattern where n.hasPrefix(p) {
                let rest = n.dropFirst(p.count)
                if let i = Int(rest.prefix { $0.isNumber }) {
                    if blocks[p] == nil { blocks[p] = []; order.append("#" + p) }
                    blocks[p]!.insert(i)
                    continue outer
                }
            }
            let parts = n.split(separator: ".")
            let key = parts.count > 1 && (parts.last == "weight" || parts.last == "bias") ? parts.dropLast().joined(separator: ".") + ".*" : n
            if seen.insert(key).inserted { order.append(key) }
        }
        let items: [String] = order.map { k in
            guard k.hasPrefix("#") else { return k }
            let p = String(k.dropFirst())
            let s = blocks[p]!.sorted()
            let contiguous = s.last! - s.first! + 1 == s.count
            if s.count == 1 { return "\(p)\(s[0]).*" }
            return contiguous ? "\(p)\(s.first!)-\(s.last!).*" : "\(p){\(s.map(String.init).joined(separator: ","))}.*"
        }
        if items.count <= limit { return items.joined(separator: ", ") }
        return items.prefix(limit).joined(separator: ", ") + ", … (\(items.count - limit) more)"
    }
}
