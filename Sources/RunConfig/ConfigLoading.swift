import DataPipeline
import ExitStatus
import Foundation
import VideoMAE

// Reading a config: the file, `--set key=value` overrides, the merge over the defaults, and
// the messages for unknown keys, wrong types and malformed JSON.
public enum JSONKind: String {
    case int = "an integer", number = "a number", string = "a string", bool = "true or false"
    case array = "a list", object = "an object", null = "null"

    public static func of(_ v: Any) -> JSONKind {
        if v is NSNull { return .null }
        if let n = v as? NSNumber {
            switch String(cString: n.objCType) {
            case "c", "B": return .bool
            case "f", "d": return .number
            default: return .int
            }
        }
        if v is String { return .string }
        if v is [Any] { return .array }
        if v is [String: Any] { return .object }
        return .null
    }

    public func accepts(_ other: JSONKind) -> Bool { self == other || (self == .number && other == .int) }
}

extension TrainConfig {
    /// Reads a config file, applies `--set key=value` overrides, checks every key, type and
    /// value, and fills the defaults. Any problem is a `UserError` naming the key's path.
    public static func load(path: String?, overrides: [String] = []) throws -> TrainConfig {
        var tree: [String: Any] = [:]
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw UserError("\(path): cannot read the config file (missing or unreadable)")
            }
            do {
                guard let t = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [String: Any] else {
                    throw UserError("\(path): the config must be a JSON object")
                }
                tree = t
            } catch let e as UserError { throw e } catch {
                throw UserError("\(path): not valid JSON (\(jsonErrorSummary(error)))")
            }
        }
        for o in overrides { try applyOverride(o, to: &tree) }
        return try resolve(tree, source: path ?? "config")
    }

    /// `a.b.c=value`: value read as JSON when it parses, else as a string.
    static func applyOverride(_ o: String, to tree: inout [String: Any]) throws {
        guard let eq = o.firstIndex(of: "="), eq != o.startIndex else {
            throw UserError("--set \(o): expected key=value, e.g. --set optim.lr=3e-4")
        }
        let key = String(o[..<eq]), raw = String(o[o.index(after: eq)...])
        let value: Any = (try? JSONSerialization.jsonObject(with: Data(raw.utf8), options: [.fragmentsAllowed])) ?? raw
        let parts = key.split(separator: ".").map(String.init)
        func set(_ node: inout [String: Any], _ i: Int) throws {
            if i == parts.count - 1 { node[parts[i]] = value; return }
            var child = node[parts[i]] as? [String: Any] ?? [:]
            if node[parts[i]] != nil && !(node[parts[i]] is [String: Any]) {
                throw UserError("--set \(key): '\(parts[0...i].joined(separator: "."))' is not a section")
            }
            try set(&child, i + 1)
            node[parts[i]] = child
        }
        try set(&tree, 0)
    }

    public static func resolve(_ user: [String: Any], source: String) throws -> TrainConfig {
        let task = (user["task"] as? String) ?? "pretrain"
        guard task == "pretrain" || task == "finetune" else {
            throw UserError("\(source): task: must be \"pretrain\" or \"finetune\", got \(describe(user["task"]!))")
        }
        let defaults = TrainConfig.defaults(task: task)
        let merged = try merge(user, over: defaults, path: "", source: source)
        let data = try JSONSerialization.data(withJSONObject: merged)
        var cfg: TrainConfig
        do { cfg = try JSONDecoder().decode(TrainConfig.self, from: data) } catch {
            throw UserError("\(source): \(decodingSummary(error))")
        }
        try cfg.validate(source: source)
        return cfg
    }

    /// Lays the user's keys over the defaults, refusing unknown keys and wrong types.
    static func merge(_ user: [String: Any], over defaults: [String: Any], path: String, source: String) throws -> [String: Any] {
        var out = defaults
        for (k, v) in user.sorted(by: { $0.key < $1.key }) {
            let full = path.isEmpty ? k : path + "." + k
            guard let d = defaults[k] else {
                var msg = "\(source): unknown key '\(full)'"
                if let s = closest(k, in: Array(defaults.keys)) { msg += " (did you mean '\(path.isEmpty ? s : path + "." + s)'?)" }
                throw UserError(msg)
            }
            if let dd = d as? [String: Any] {
                guard let uv = v as? [String: Any] else {
                    throw UserError("\(source): \(full): must be an object (a section), got \(describe(v))")
                }
                out[k] = try merge(uv, over: dd, path: full, source: source)
                continue
            }
            let want = JSONKind.of(d) == .null ? (nullableTypes[full] ?? .string) : JSONKind.of(d)
            let got = JSONKind.of(v)
            let nullable = nullableTypes[full] != nil
            if got == .null {
                guard nullable else { throw UserError("\(source): \(full): must be \(want.rawValue), got null") }
            } else if !want.accepts(got) {
                throw UserError("\(source): \(full): must be \(want.rawValue), got \(describe(v))")
            }
            if want == .array, let arr = v as? [Any], arr.contains(where: { !JSONKind.number.accepts(JSONKind.of($0)) }) {
                throw UserError("\(source): \(full): must be a list of numbers, got \(describe(v))")
            }
            out[k] = v
        }
        return out
    }

    public static func describe(_ v: Any) -> String {
        if let s = v as? String { return "\"\(s)\"" }
        if let d = try? JSONSerialization.data(withJSONObject: v, options: [.fragmentsAllowed]), let s = String(data: d, encoding: .utf8) {
            return s.count > 60 ? String(s.prefix(57)) + "..." : s
        }
        return "\(v)"
    }

    /// The known key nearest to a misspelled one (edit distance ≤ 3 or a shared prefix).
    static func closest(_ k: String, in keys: [String]) -> String? {
        func dist(_ a: String, _ b: String) -> Int {
            let a = Array(a), b = Array(b)
            if a.isEmpty { return b.count }
            if b.isEmpty { return a.count }
            var prev = Array(0...b.count), cur = prev
            for i in 1...a.count {
                cur[0] = i
                for j in 1...b.count { cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)) }
                prev = cur
            }
            return prev[b.count]
        }
        let scored: [(String, Int)] = keys.map { ($0, dist(k.lowercased(), $0.lowercased())) }
        let best = scored.min { (a: (String, Int), b: (String, Int)) -> Bool in a.1 < b.1 || (a.1 == b.1 && a.0 < b.0) }
        guard let (name, d) = best, d <= max(3, k.count / 3) else { return nil }
        return name
    }

    static func jsonErrorSummary(_ e: Error) -> String {
        let ns = e as NSError
        if let d = ns.userInfo["NSDebugDescription"] as? String { return d }
        return ns.localizedDescription
    }

    static func decodingSummary(_ e: Error) -> String {
        if case let DecodingError.typeMismatch(_, ctx) = e {
            return ctx.codingPath.map(\.stringValue).joined(separator: ".") + ": wrong type"
        }
        if case let DecodingError.valueNotFound(_, ctx) = e {
            return ctx.codingPath.map(\.stringValue).joined(separator: ".") + ": missing value"
        }
        if case let DecodingError.dataCorrupted(ctx) = e {
            return ctx.codingPath.map(\.stringValue).joined(separator: ".") + ": " + ctx.debugDescription
        }
        return "\(e)"
    }
}
