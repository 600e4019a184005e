import Foundation
import HDF5
import TensorCore

/// Everything one HDF5 checkpoint holds (the design's layout):
///   /  attrs format="vmae-checkpoint", format_version=1, task, step, epoch, config, created
///   /model/<name>                 float32 parameters
///   /optimizer/exp_avg/<name>     AdamW first moments
///   /optimizer/exp_avg_sq/<name>  AdamW second moments
///   /state/<key>                  int64 / float64 datasets, and string attributes of /state
public struct Checkpoint {
    public static let format = "vmae-checkpoint"
    public static let formatVersion: Int64 = 1

    public var task: String
    public var step: Int
    public var epoch: Int
    public var config: String
    public var created: String
    public var model: [(String, Tensor)]
    public var expAvg: [(String, Tensor)]
    public var expAvgSq: [(String, Tensor)]
    public var ints: [String: [Int64]]
    public var doubles: [String: [Double]]
    public var strings: [String: String]

    public init(task: String, step: Int, epoch: Int, config: String, model: [(String, Tensor)],
                expAvg: [(String, Tensor)] = [], expAvgSq: [(String, Tensor)] = [],
                ints: [String: [Int64]] = [:], doubles: [String: [Double]] = [:], strings: [String: String] = [:]) {
        self.task = task
        self.step = step
        self.epoch = epoch
        self.config = config
        self.created = ISO8601DateFormatter().string(from: Date())
        self.model = model
        self.expAvg = expAvg
        self.expAvgSq = expAvgSq
        self.ints = ints
        self.doubles = doubles
        self.strings = strings
    }

    public func modelTensor(_ name: String) -> Tensor? { model.first { $0.0 == name }?.1 }
}

/// A checkpoint file that cannot be used, with the path and the reason.
public struct CheckpointError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public init(_ path: String, _ reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): \(reason)" }
}

extension Checkpoint {
    /// Writes atomically: to a temporary file in the same folder, flushed and closed, then
    /// renamed over `path`. A crash leaves either the old file or the new one, never a torn one.
    public func write(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        var file: H5File? = nil
        do {
            let f = try H5File.create(tmp)
            file = f
            try f.setAttribute("format", Checkpoint.format)
            try f.setAttribute("format_version", Checkpoint.formatVersion)
            try f.setAttribute("task", task)
            try f.setAttribute("step", Int64(step))
            try f.setAttribute("epoch", Int64(epoch))
            try f.setAttribute("config", config)
            try f.setAttribute("created", created)
            for (group, list) in [("model", model), ("optimizer/exp_avg", expAvg), ("optimizer/exp_avg_sq", expAvgSq)] {
                _ = try f.createGroup(group)
                for (n, t) in list {
                    try f.write("\(group)/\(n)", from: UnsafePointer(t.data), count: t.count, shape: t.shape)
                }
            }
            _ = try f.createGroup("state")
            for (k, v) in ints.sorted(by: { $0.key < $1.key }) { try f.write("state/\(k)", v, shape: [v.count]) }
            for (k, v) in doubles.sorted(by: { $0.key < $1.key }) { try f.write("state/\(k)", v, shape: [v.count]) }
            for (k, v) in strings.sorted(by: { $0.key < $1.key }) { try f.setAttribute(k, v, on: "state") }
            try f.flush(sync: true)
            try f.close()
            let fd = open(tmp, O_RDONLY)
            if fd >= 0 { fsync(fd); close(fd) }
            guard rename(tmp, path) == 0 else {
                throw CheckpointError(path, "cannot rename the temporary file into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            // a failed write (disk full, read-only): close the half-written file before removing
            // it, so that nothing of it stays open or on disk
            try? file?.close()
            unlink(tmp)
            throw error
        }
    }

    /// The checkpoint reader as the child process of `HDF5Isolation` runs it: `read` whole, so a
    /// file that crashes or hangs libhdf5 in this reader does it there first (an executable
    /// that opens checkpoints names it in `HDF5Isolation.serveOrEnable`).
    public static let isolatedReader = IsolatedReader(name: "checkpoint") { _ = try Checkpoint.read($0) }

    /// Reads a checkpoint, checking that it is one. A missing, foreign or damaged file is a
    /// `CheckpointError` naming the path and the reason.
    public static func read(_ path: String, tensors: Bool = true) throws -> Checkpoint {
        guard FileManager.default.fileExists(atPath: path) else { throw CheckpointError(path, "no such file") }
        let f: H5File
        do { f = try H5File.open(path, checkedAs: Checkpoint.isolatedReader.name) } catch let e as HDF5Error where e.kind == .damaged {
            throw CheckpointError(path, e.message)
        } catch let e as HDF5Error where e.kind == .refused {
            // the child's Checkpoint.read threw: its CheckpointError, "PATH: reason"
            throw CheckpointError(path, e.message.hasPrefix(path + ": ") ? String(e.message.dropFirst(path.count + 2)) : e.message)
        } catch { throw CheckpointError(path, "not a readable HDF5 file (\(error))") }
        defer { try? f.close() }
        do {
            guard f.hasAttribute("format"), try f.stringAttribute("format") == Checkpoint.format else {
                throw CheckpointError(path, "not a vmae checkpoint (no format=\"vmae-checkpoint\" attribute)")
            }
            let version = try f.attribute("format_version", as: Int64.self)
            guard version == Checkpoint.formatVersion else {
                throw CheckpointError(path, "checkpoint format_version \(version) is not supported (this vmae reads 1)")
            }
            var ck = Checkpoint(task: try f.stringAttribute("task"), step: Int(try f.attribute("step", as: Int64.self)),
                                epoch: Int(try f.attribute("epoch", as: Int64.self)), config: try f.stringAttribute("config"),
                                model: [])
            ck.created = (try? f.stringAttribute("created")) ?? ""
            let limit = f.plausibleElementLimit(elementSize: MemoryLayout<Float>.stride)
            let fileBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            func readGroup(_ g: String) throws -> [(String, Tensor)] {
                guard f.exists(g) else { return [] }
                return try f.members(of: g).map { n in
                    let shape = try f.shape(of: "\(g)/\(n)")
                    // a damaged header can declare any shape: refuse one the file cannot hold
                    // before allocating for it
                    var count = 1
                    for d in shape {
                        let (c, o) = count.multipliedReportingOverflow(by: max(d, 0))
                        guard !o, c <= limit else {
                            throw CheckpointError(path, "damaged checkpoint (\(g)/\(n) claims shape \(shape), more than the \(fileBytes)-byte file holds)")
                        }
                        count = c
                    }
                    let t = Tensor(uninitialized: shape)
                    if tensors { try f.read("\(g)/\(n)", into: t.data, count: t.count) }
                    return (n, t)
                }
            }
            guard f.exists("model") else { throw CheckpointError(path, "no /model group") }
            ck.model = try readGroup("model")
            ck.expAvg = try readGroup("optimizer/exp_avg")
            ck.expAvgSq = try readGroup("optimizer/exp_avg_sq")
            if f.exists("state") {
                for k in try f.members(of: "state") {
                    switch try f.dtype(of: "state/\(k)") {
                    case .int64: ck.ints[k] = try f.read("state/\(k)", as: Int64.self)
                    case .float64: ck.doubles[k] = try f.read("state/\(k)", as: Double.self)
                    default: break
                    }
                }
                for a in try f.attributeNames(of: "state") { ck.strings[a] = try f.stringAttribute(a, of: "state") }
            }
            return ck
        } catch let e as CheckpointError { throw e } catch {
            throw CheckpointError(path, "damaged checkpoint (\(error))")
        }
    }
}
