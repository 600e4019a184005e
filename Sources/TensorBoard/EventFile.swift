import Foundation
import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#endif

/// One TensorBoard event file, written as TensorFlow's and TensorBoard's writers do: named
/// `events.out.tfevents.<unix seconds, 10 digits>.<hostname>` in `logDir` (TensorBoard reads every
/// file with "tfevents" in its name, in name order), its first event `file_version:
/// "brain.Event:2"`, then one `Event` per record. Each record is written by one `write` call
/// straight to the file (no buffering), so a reader sees whole records and a run that dies loses
/// nothing already logged.
public final class EventWriter {
    public let path: String
    let handle: FileHandle

    /// Creates `logDir` if needed and opens a new file there (never appends to an old one: a
    /// resumed run gets a file of its own, as TensorBoard's convention is). If a file of that
    /// name exists (two runs within a second), `.1`, `.2`, … is added.
    public init(logDir: String, wallTime: Double = Date().timeIntervalSince1970) throws {
        try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true)
        let base = logDir + "/" + String(format: "events.out.tfevents.%010lld.", Int64(wallTime)) + EventWriter.hostname()
        var p = base
        var n = 0
        while FileManager.default.fileExists(atPath: p) { n += 1; p = base + ".\(n)" }
        guard FileManager.default.createFile(atPath: p, contents: nil), let h = FileHandle(forWritingAtPath: p) else {
            throw TFRecordError(path: p, offset: 0, "cannot create the event file")
        }
        path = p
        handle = h
        var first = Tensorboard_Event()
        first.wallTime = wallTime
        first.fileVersion = "brain.Event:2"
        first.sourceMetadata.writer = "vmae"
        try write(first)
    }

    deinit { try? handle.close() }

    /// Appends one event as one record.
    public func write(_ event: Tensorboard_Event) throws {
        let payload: [UInt8] = try event.serializedBytes()
        try handle.write(contentsOf: TFRecord.frame(payload))
    }

    /// Scalars of one step, as one event (`simple_value`, what TensorBoard's scalar dashboard reads).
    public func scalars(_ values: [(tag: String, value: Double)], step: Int, wallTime: Double = Date().timeIntervalSince1970) throws {
        guard !values.isEmpty else { return }
        var summary = Tensorboard_Summary()
        summary.value = values.map { tag, v in
            var sv = Tensorboard_Summary.Value()
            sv.tag = tag
            sv.simpleValue = Float(v)
            return sv
        }
        try write(summary: summary, step: step, wallTime: wallTime)
    }

    /// An image (`Summary.Image` with PNG bytes; `channels` 3 for RGB, 4 for RGBA).
    public func image(_ tag: String, png: [UInt8], width: Int, height: Int, channels: Int = 3, step: Int,
                      wallTime: Double = Date().timeIntervalSince1970) throws {
        var img = Tensorboard_Summary.Image()
        img.width = Int32(width)
        img.height = Int32(height)
        img.colorspace = Int32(channels)
        img.encodedImageString = Data(png)
        var sv = Tensorboard_Summary.Value()
        sv.tag = tag
        sv.image = img
        var summary = Tensorboard_Summary()
        summary.value = [sv]
        try write(summary: summary, step: step, wallTime: wallTime)
    }

    /// Text, as the text plugin stores it: a rank-0 DT_STRING tensor tagged for plugin "text"
    /// (the plugin renders it as Markdown).
    public func text(_ tag: String, _ text: String, step: Int, wallTime: Double = Date().timeIntervalSince1970) throws {
        var tensor = Tensorboard_TensorProto()
        tensor.dtype = .dtString
        tensor.tensorShape = Tensorboard_TensorShapeProto()
        tensor.stringVal = [Data(text.utf8)]
        var sv = Tensorboard_Summary.Value()
        sv.tag = tag
        sv.metadata.pluginData.pluginName = "text"
        sv.tensor = tensor
        var summary = Tensorboard_Summary()
        summary.value = [sv]
        try write(summary: summary, step: step, wallTime: wallTime)
    }

    /// `SessionLog START` at `step`: TensorBoard's mark of a restart. Its reader drops what
    /// earlier files logged at this step or later (the steps a run logged after its last
    /// checkpoint, which the resumed run does again).
    public func sessionStart(step: Int, wallTime: Double = Date().timeIntervalSince1970) throws {
        var e = Tensorboard_Event()
        e.wallTime = wallTime
        e.step = Int64(step)
        e.sessionLog.status = .start
        try write(e)
    }

    func write(summary: Tensorboard_Summary, step: Int, wallTime: Double) throws {
        var e = Tensorboard_Event()
        e.wallTime = wallTime
        e.step = Int64(step)
        e.summary = summary
        try write(e)
    }

    public func close() { try? handle.close() }

    static func hostname() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "localhost" }
        let name = String(cString: buf)
        return name.isEmpty ? "localhost" : name
    }
}

/// Reads event files back (the tests' reader; TensorBoard itself is the other one).
public enum EventReader {
    /// Every event of one file, in order, each record's CRCs checked.
    public static func events(path: String) throws -> [Tensorboard_Event] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TFRecordError(path: path, offset: 0, "cannot read the file")
        }
        return try TFRecord.payloads([UInt8](data), path: path).enumerated().map { i, payload in
            do { return try Tensorboard_Event(serializedBytes: payload) } catch {
                throw TFRecordError(path: path, offset: 0, "record \(i) is not an Event protobuf (\(error))")
            }
        }
    }

    /// The event files of `logDir` in the order TensorBoard reads them (by name).
    public static func files(logDir: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: logDir)) ?? []
        return names.filter { $0.contains("tfevents") }.sorted().map { logDir + "/" + $0 }
    }

    /// A scalar series: (step, value) per event that has `tag`, over every file of `logDir`.
    public static func scalars(_ tag: String, logDir: String) throws -> [(step: Int, value: Float)] {
        var out: [(Int, Float)] = []
        for f in files(logDir: logDir) {
            for e in try events(path: f) {
                for v in e.summary.value where v.tag == tag {
                    if case .simpleValue(let x)? = v.value { out.append((Int(e.step), x)) }
                }
            }
        }
        return out
    }
}
