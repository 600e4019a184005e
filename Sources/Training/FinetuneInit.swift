import Autodiff
import Checkpoint
import ExitStatus
import Foundation
import NN
import TensorCore
import VideoMAE

/// What initializing a classifier from a pretraining checkpoint did.
public struct InitReport: Equatable {
    /// Classifier parameters copied from the checkpoint (classifier names).
    public var loaded: [String] = []
    /// Classifier parameters the checkpoint does not have (left as initialized: fc_norm, head).
    public var new: [String] = []
    /// Checkpoint tensors the classifier has no use for (decoder, encoder.norm, …; checkpoint names).
    public var ignored: [String] = []

    /// Lines for the run's log.
    public func lines(path: String) -> [String] {
        func list(_ names: [String]) -> String {
            if names.isEmpty { return "none" }
            return summarize(names).joined(separator: ", ")
        }
        return [
            "init_from \(path): loaded \(loaded.count) tensors (\(list(loaded)))",
            "  new (not in the checkpoint, initialized fresh): \(new.count) (\(list(new)))",
            "  ignored (in the checkpoint, not used by the classifier): \(ignored.count) (\(list(ignored)))",
        ]
    }

    /// Groups `blocks.{i}.…` names as `blocks.0-11.*` so a report stays one line.
    func summarize(_ names: [String]) -> [String] {
        var out: [String] = []
        var groups: [String: Set<Int>] = [:]   // prefix ("blocks." or "decoder.blocks.") → indices
        var order: [String] = []
        for n in names {
            if let r = n.range(of: "blocks.") {
                let prefix = String(n[..<r.upperBound])
                let rest = n[r.upperBound...]
                if let i = Int(rest.prefix { $0.isNumber }) {
                    if groups[prefix] == nil { groups[prefix] = []; order.append(prefix) }
                    groups[prefix]!.insert(i)
                    continue
                }
            }
            let top = n.split(separator: ".").dropLast().joined(separator: ".")
            let key = top.isEmpty ? n : top + ".*"
            if !out.contains(key) { out.append(key) }
        }
        for p in order {
            let s = groups[p]!.sorted()
            out.append(s.count == 1 ? "\(p)\(s[0]).*" : "\(p)\(s.first!)-\(s.last!).*")
        }
        return out
    }
}

public enum FinetuneInit {
    /// The classifier name a pretraining tensor maps to: `encoder.` stripped; nil for what the
    /// classifier leaves behind (encoder.norm, encoder_to_decoder, mask_token, decoder.*).
    public static func classifierName(forPretrained name: String) -> String? {
        guard name.hasPrefix("encoder.") else { return nil }
        let rest = String(name.dropFirst("encoder.".count))
        if rest.hasPrefix("norm.") { return nil }
        return rest
    }

    /// Copies the encoder of a pretraining checkpoint into `classifier`. A checkpoint of another
    /// task, and a tensor whose shape does not fit, are `UserError`s naming the file, the tensor
    /// and both shapes.
    @discardableResult
    public static func load(_ classifier: Classifier, from ck: Checkpoint, path: String) throws -> InitReport {
        guard ck.task == "pretrain" else {
            throw UserError("checkpoint.init_from \(path): a \(ck.task) checkpoint; init_from takes a pretraining checkpoint " +
                            "(task \"pretrain\") — to continue a fine-tuning run use --resume")
        }
        let params = classifier.namedParameters()
        let byName = Dictionary(uniqueKeysWithValues: params.map { ($0.0, $0.1) })
        var report = InitReport()
        var seen = Set<String>()
        // Check every shape before copying anything: a mismatch leaves the model untouched.
        var copies: [(Variable, Tensor)] = []
        for (name, t) in ck.model {
            guard let target = classifierName(forPretrained: name), let p = byName[target] else {
                report.ignored.append(name)
                continue
            }
            guard t.shape == p.shape else {
                throw UserError("checkpoint.init_from \(path): tensor '\(name)' has shape \(t.shape) in the checkpoint " +
                                "but '\(target)' has \(p.shape) in the classifier from the config (another model size, patch or tubelet?)")
            }
            copies.append((p, t))
            seen.insert(target)
        }
        for (p, t) in copies { p.value.copy(from: t) }
        for (name, _) in params {
            if seen.contains(name) { report.loaded.append(name) } else { report.new.append(name) }
        }
        return report
    }

    /// `checkpoint.init_from` as a file: a folder (a pretraining run's output_dir) stands for
    /// its newest `checkpoint-STEP.h5`.
    public static func resolve(_ path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw UserError("checkpoint.init_from \(path): no such file or folder")
        }
        guard isDir.boolValue else { return path }
        guard let newest = CheckpointStore(dir: path, keepLast: 1).list().first else {
            throw UserError("checkpoint.init_from \(path): a folder without checkpoint-STEP.h5 files (is the pretraining run there?)")
        }
        return newest.path
    }

    /// Reads `path` and loads it (`load(_:from:path:)`); an unreadable file is a `UserError`.
    @discardableResult
    public static func load(_ classifier: Classifier, path: String) throws -> InitReport {
        let ck: Checkpoint
        do { ck = try Checkpoint.read(path) } catch let e as CheckpointError {
            throw UserError("checkpoint.init_from \(e.description)")
        }
        return try load(classifier, from: ck, path: path)
    }
}
