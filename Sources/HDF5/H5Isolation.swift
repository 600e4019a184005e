// Opening an HDF5 file from anywhere without trusting libhdf5 with it: before `H5File.open`
// hands a file to the library in this process, a child (a fresh exec of this executable, see
// ChildProcess) opens the file and reads it with the very reader this process is about to run
// (`IsolatedReader`: the checkpoint reader, the parity-fixture reader), or, for an open that
// names none, with `walk` (every object, attribute and dataset). libhdf5 1.10.8 loops forever
// or crashes on some damaged files (found by fuzzing: H5HG_read, H5O__msg_iterate_real,
// H5C_protect); in the child that costs only the child, and the open becomes one HDF5Error
// (kind .damaged) naming the file and what happened. A child that exits 0 ran the same code on
// the same bytes, so the reader is safe to run here.
//
// On only where an executable turns it on (`serveOrEnable`, first thing in main): a library
// user or a test that reads in-process reads as before.
import ChildProcess
import CHDF5
import Foundation

/// A reader the child can run by name: the code that reads a file of one kind, whole, as the
/// command that opens it will (its result is thrown away; its errors are the parent's business).
public struct IsolatedReader: Sendable {
    public let name: String
    public let read: @Sendable (String) throws -> Void
    public init(name: String, read: @escaping @Sendable (String) throws -> Void) {
        self.name = name
        self.read = read
    }
}

public enum HDF5Isolation {
    /// The hidden first argument that makes an executable the child:
    /// `EXE __vmae-check-hdf5 PARENT-PID READER PATH`.
    public static let childCommand = "__vmae-check-hdf5"
    /// The reader of an open that names none: `walk`.
    public static let walkReader = "walk"
    /// The child's status when its reader threw (the error's text on its stdout).
    static let refusedStatus: Int32 = 3

    /// Where the child comes from and how long it may take (nil: `deadline(bytes:)`'s rule).
    struct Settings { var executable: String; var timeout: Double? }
    nonisolated(unsafe) static var settings: Settings?
    /// The readers this executable's child can run, by name.
    nonisolated(unsafe) static var readers: [String: IsolatedReader] = [:]

    /// How long the last check's child took, in seconds (nil before the first).
    nonisolated(unsafe) public private(set) static var lastCheckSeconds: Double?

    /// The executables' first call, naming the readers their commands open files with. In the
    /// child (`argv[1] == childCommand`): runs the reader asked for (unknown: `walk`) on the
    /// file and exits 0; a crash or hang inside libhdf5 ends only the child. Otherwise turns
    /// the check on for every later `H5File.open` of this process, with `executable` as the
    /// child (default this executable) and `timeout` seconds as its deadline (default
    /// `deadline(forFileAt:timeout:)`).
    public static func serveOrEnable(readers: [IsolatedReader], executable: String = ChildProcess.selfExecutable,
                                     timeout: Double? = nil) {
        for r in readers { self.readers[r.name] = r }
        let a = CommandLine.arguments
        if a.count == 5, a[1] == childCommand {
            let (reader, path) = (a[3], a[4])
            ChildProcess.becomeChild(of: pid_t(a[2]) ?? 0, seconds: deadline(forFileAt: path, timeout: timeout) + 1)
            if let r = self.readers[reader] {
                do { try r.read(path) } catch {
                    // the reader refused the file: its message is the answer (status 3), and the
                    // parent does not open the file at all — a failed read can leave libhdf5's own
                    // state damaged (fuzzing found a use-after-free in a second read of such a file)
                    let text = String("\(error)".prefix(4000)) + "\n"
                    _ = text.withCString { write(1, $0, strlen($0)) }
                    _exit(refusedStatus)
                }
            } else {
                walk(path)
            }
            _exit(0)  // no atexit work, no leak report
        }
        enable(executable: executable, timeout: timeout)
    }

    /// Turns the check on (see `serveOrEnable`).
    public static func enable(executable: String = ChildProcess.selfExecutable, timeout: Double? = nil) {
        settings = Settings(executable: executable, timeout: timeout)
    }

    /// Turns the check off: files are opened in this process only.
    public static func disable() { settings = nil }

    /// The child's deadline: `VMAE_HDF5_CHECK_SECONDS` if set to a positive number, else
    /// `timeout`, else 60 s plus 1 s per 10 MB of file (reading runs at hundreds of MB/s, so
    /// only a hang reaches it).
    static func deadline(forFileAt path: String, timeout: Double?) -> Double {
        if let s = ProcessInfo.processInfo.environment["VMAE_HDF5_CHECK_SECONDS"], let t = Double(s), t > 0 { return t }
        if let timeout { return timeout }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        return 60 + Double(bytes) / 10e6
    }

    /// Runs the child's `reader` on `path`, when the check is on; throws `.refused` with the
    /// reader's own message when the reader threw there (the file is then not opened here at
    /// all), `.damaged` when the child crashed or hung. A child that cannot be started (no /proc, no processes left) leaves
    /// the file to the in-process reader, as without the check. `VMAE_HDF5_CHECK_SECONDS=off`
    /// turns the check off (to measure what it costs).
    static func check(_ path: String, reader: String) throws {
        guard let s = settings, ProcessInfo.processInfo.environment["VMAE_HDF5_CHECK_SECONDS"] != "off" else { return }
        let t = deadline(forFileAt: path, timeout: s.timeout)
        let start = Date()
        let (end, output) = ChildProcess.runCapturing(s.executable, arguments: [childCommand, "\(getpid())", reader, path],
                                                      timeout: t, environment: ["OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"])
        lastCheckSeconds = Date().timeIntervalSince(start)
        let answer = output.trimmingCharacters(in: .newlines)
        switch end {
        case .exited(0), .notStarted: return
        case .exited(refusedStatus) where !answer.isEmpty:
            throw HDF5Error(.refused, file: path, message: answer)
        case .timedOut:
            throw HDF5Error(.damaged, file: path, message: "damaged HDF5 file: the HDF5 library hung reading it (\(end), in a separate process)")
        case .signaled, .exited:
            throw HDF5Error(.damaged, file: path, message: "damaged HDF5 file: the HDF5 library crashed reading it (\(end), in a separate process)")
        }
    }

    /// The reader of an open that names none: reads everything in the file at `path` through
    /// this module's own calls: from the root down every link (each object once, however many links lead
    /// to it; at most 64 groups deep and 10^6 links), every attribute of every object (its names,
    /// dtype, shape and values: strings as strings, numbers as their own type and converted to
    /// float64), and every dataset (shape, dtype, all values in its own type; numbers of a type
    /// vmae has no Swift type for, converted to float64). Errors are passed over and the walk
    /// goes on. (A reader that names its own `IsolatedReader` is checked
    /// with exactly its own calls instead: the walk cannot know which names a reader looks up
    /// when listing them fails, and fuzzing found a file whose attribute names do not list but
    /// whose `format` attribute, read by name, hangs libhdf5.) In-process: the child's job.
    public static func walk(_ path: String) {
        guard let f = try? H5File.openInProcess(path) else { return }
        defer { try? f.close() }
        var seen = Set<[UInt64]>()
        var links = 0
        func visit(_ abs: String, depth: Int) {
            walkAttributes(of: abs, in: f)
            if f.isDataset(abs) { walkDataset(abs, in: f); return }
            guard f.isGroup(abs), depth < 64, let id = f.identity(of: abs), seen.insert(id).inserted,
                  let names = try? f.members(of: abs) else { return }
            for n in names {
                links += 1
                if links > 1_000_000 { return }
                visit(abs == "/" ? "/" + n : abs + "/" + n, depth: depth + 1)
            }
        }
        visit("/", depth: 0)
    }

    static func walkAttributes(of abs: String, in f: H5File) {
        guard let names = try? f.attributeNames(of: abs) else { return }
        for a in names {
            _ = f.hasAttribute(a, on: abs)
            _ = try? f.attributeShape(a, of: abs)
            guard let dt = try? f.attributeDType(a, of: abs) else { continue }
            switch dt {
            case .string: _ = try? f.stringArrayAttribute(a, of: abs)
            case .float32: _ = try? f.arrayAttribute(a, of: abs, as: Float.self)
            case .float64: _ = try? f.arrayAttribute(a, of: abs, as: Double.self)
            case .int64: _ = try? f.arrayAttribute(a, of: abs, as: Int64.self)
            case .int32: _ = try? f.arrayAttribute(a, of: abs, as: Int32.self)
            case .uint8: _ = try? f.arrayAttribute(a, of: abs, as: UInt8.self)
            default: break
            }
            if dt.isNumeric { _ = try? f.arrayAttribute(a, of: abs, as: Double.self, converting: true) }
        }
    }

    static func walkDataset(_ abs: String, in f: H5File) {
        _ = try? f.shape(of: abs)
        guard let dt = try? f.dtype(of: abs) else { return }
        switch dt {
        case .float32: _ = try? f.read(abs, as: Float.self)
        case .float64: _ = try? f.read(abs, as: Double.self)
        case .int64: _ = try? f.read(abs, as: Int64.self)
        case .int32: _ = try? f.read(abs, as: Int32.self)
        case .uint8: _ = try? f.read(abs, as: UInt8.self)
        case _ where dt.isNumeric: _ = try? f.read(abs, as: Double.self, converting: true)
        default: break  // strings and other types: no vmae reader reads their values
        }
    }
}

extension H5File {
    /// The object at `abs`: its file's number and address (its identity however it is reached).
    func identity(of abs: String) -> [UInt64]? {
        withH5 {
            guard let fid = try? requireOpen() else { return nil }
            var fileno: UInt = 0
            var addr: UInt64 = 0
            guard vmae_h5_object_identity(fid, abs, &fileno, &addr) >= 0 else { _ = h5ErrorText(); return nil }
            return [UInt64(fileno), addr]
        }
    }
}
