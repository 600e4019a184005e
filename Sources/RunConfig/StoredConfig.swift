import Checkpoint
import ExitStatus
import Foundation

/// Reads the checkpoint at `path`; a missing, foreign or damaged file is a `UserError`.
public func readCheckpoint(_ path: String) throws -> Checkpoint {
    do { return try Checkpoint.read(path) } catch let e as CheckpointError { throw UserError(e.description) }
}

/// The config checkpoint `ck` (read from `path`) was made with, resolved as this vmae reads
/// configs: not a JSON object, or not a config this vmae accepts, is a `UserError`.
public func storedConfig(of ck: Checkpoint, path: String) throws -> TrainConfig {
    guard let d = ck.config.data(using: .utf8), let tree = try? JSONSerialization.jsonObject(with: d) as? [String: Any] else {
        throw UserError("\(path): the checkpoint's config is not a JSON object")
    }
    do { return try TrainConfig.resolve(tree, source: path + " (its config)") } catch let e as UserError {
        throw UserError("\(e.message) — this checkpoint's config does not fit this vmae")
    }
}
