import ExitStatus
import Foundation
import TensorCore

/// The tensors an import reads: one safetensors file, or the shards a
/// `model.safetensors.index.json` names. Nothing is read until a tensor is asked for.
public final class WeightFiles {
    public let description: String
    public let names: [String]
    private let location: [String: SafetensorsFile]

    public init(file path: String) throws {
        let f = try WeightFiles.open(path)
        description = path
        names = f.names.sorted()
        location = Dictionary(uniqueKeysWithValues: f.names.map { ($0, f) })
    }

    /// A sharded checkpoint: `{"weight_map": {tensor: file}}`, files relative to the index.
    public init(index path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw UserError("\(path): cannot read the index") }
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let map = obj["weight_map"] as? [String: Any] else {
            throw UserError("\(path): not a safetensors index (no \"weight_map\" object)")
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        var files: [String: SafetensorsFile] = [:]
        var loc: [String: SafetensorsFile] = [:]
        for (name, v) in map.sorted(by: { $0.key < $1.key }) {
            guard let file = v as? String, !file.isEmpty, !file.hasPrefix("/"), !file.split(separator: "/").contains("..") else {
                throw UserError("\(path): weight_map entry for '\(name)' is not a file name in the index's folder")
            }
            if files[file] == nil { files[file] = try WeightFiles.open(dir.appendingPathComponent(file).path) }
            guard files[file]!.entry(name) != nil else {
                throw UserError("\(path): the index puts '\(name)' in \(file), which has no such tensor")
            }
            loc[name] = files[file]!
        }
        description = "\(path) (\(files.count) shards)"
        names = loc.keys.sorted()
        location = loc
    }

    static func open(_ path: String) throws -> SafetensorsFile {
        do { return try SafetensorsFile(path: path) } catch let e as SafetensorsError { throw UserError(e.description) }
    }

    public func entry(_ name: String) -> SafetensorsFile.Entry? { location[name]?.entry(name) }
    public func file(of name: String) -> String { location[name].map { URL(fileURLWithPath: $0.path).lastPathComponent } ?? "?" }

    public func tensor(_ name: String) throws -> Tensor {
        guard let f = location[name] else { throw UserError("\(description): no tensor '\(name)'") }
        do { return try f.tensor(name) } catch let e as SafetensorsError { throw UserError(e.description) }
    }

    /// "F32" or "BF16 (12), F32 (3)".
    public var dtypeSummary: String {
        var count: [String: Int] = [:]
        for n in names { if let e = entry(n) { count[e.dtype, default: 0] += 1 } }
        if count.count == 1 { return count.keys.first! }
        return count.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
    }
}
