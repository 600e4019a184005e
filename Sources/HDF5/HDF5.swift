// The HDF5 layer (see Package.swift for where it sits): a small, safe Swift API over the
// HDF5 C library, used by the checkpoint and the parity-fixture code.
//
//   H5File.create / H5File.open  →  H5File (an H5Location for "/")
//   createGroup / group          →  H5Group (an H5Location for a group path)
//   H5Location: datasets (write/read/shape/dtype), groups (members/exists), attributes.
//
// Rules that hold throughout:
// - Every C call runs under one global recursive lock, so the data loader threads and the
//   trainer may use HDF5 at once even with a library built without thread safety.
// - HDF5's automatic error printing is off; every failure is a thrown `HDF5Error` that names
//   the file and the object. Nothing traps on a bad file.
// - No HDF5 object handle outlives a call: groups are (file, path) pairs and datasets and
//   attributes are opened and closed inside each call, so only the file handle is held.
import CHDF5
import Foundation

// MARK: - Errors

/// A failure of the HDF5 layer. `description` reads like
/// `checkpoints/step_100.h5: dataset 'model/x' not found`.
public struct HDF5Error: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// The file does not exist (or is a directory).
        case fileNotFound
        /// The file exists but is not HDF5 (empty, text, other format).
        case notHDF5
        /// HDF5 refused to open or create the file (truncated, damaged, locked, no permission…).
        case openFailed
        /// A group, dataset, object or attribute does not exist.
        case notFound
        /// The object exists but is of another kind (a dataset where a group was asked for, …).
        case wrongKind
        /// The stored element type is not the one asked for.
        case wrongDType
        /// Element counts or shapes do not agree.
        case shapeMismatch
        /// An object already exists and cannot be replaced by the requested one.
        case alreadyExists
        /// The file was closed.
        case closed
        /// A write to a file opened read-only.
        case readOnly
        /// A bad argument (negative dimension, empty name, …).
        case invalidArgument
        /// HDF5 reported a failure while reading or writing.
        case io
        /// Reading the file crashed or hung libhdf5 (in the child process of `HDF5Isolation`).
        case damaged
        /// The reader refused the file in the child process of `HDF5Isolation`; `message` is the
        /// reader's own error text (which starts with the path when the reader's does).
        case refused
    }

    public let kind: Kind
    /// The file path as given to `create`/`open`.
    public let file: String
    /// The object path inside the file (no leading slash; "/" for the root), if one is involved.
    public let object: String?
    /// What went wrong, naming the object: "dataset 'model/x' not found".
    public let message: String
    /// HDF5's own description of the failure, when HDF5 reported one.
    public let detail: String?

    public init(_ kind: Kind, file: String, object: String? = nil, message: String, detail: String? = nil) {
        self.kind = kind
        self.file = file
        self.object = object
        self.message = message
        self.detail = detail
    }

    public var description: String {
        var s = "\(file): \(message)"
        if let detail, !detail.isEmpty { s += " (HDF5: \(detail))" }
        return s
    }
}

// MARK: - The global lock

/// One lock for every call into the HDF5 C library: HDF5 builds without --enable-threadsafe
/// (the usual one on macOS, for instance) must not be entered by two threads at once.
/// Debian's package happens to be thread-safe already; the lock costs little there.
/// Recursive, so helpers may nest.
let h5Lock = NSRecursiveLock()

/// No library shutdown at exit: vmae closes every file it opens, and a file whose writing
/// failed (disk full, file-size limit) cannot be closed, so HDF5's own atexit shutdown would
/// flush it again and crash (libhdf5 1.10.8 dereferences NULL there). H5dont_atexit must come
/// before the library's first use.
private let h5Setup: Void = {
    _ = H5dont_atexit()
    _ = H5open()
}()

/// Runs `body` holding the global HDF5 lock, after the one-time library setup, with HDF5's
/// automatic printing of error stacks to stderr turned off for the calling thread. (Debian's
/// libhdf5 is built thread-safe, and then each thread has its own error stack and setting.)
@inline(__always)
func withH5<R>(_ body: () throws -> R) rethrows -> R {
    h5Lock.lock()
    defer { h5Lock.unlock() }
    _ = h5Setup
    vmae_h5_silence_errors_on_this_thread()
    return try body()
}

/// Text of HDF5's current error stack (outermost and innermost message); clears the stack.
/// Call right after a failed C call, under the lock.
func h5ErrorText() -> String? {
    var buf = [CChar](repeating: 0, count: 640)
    let n = vmae_h5_error_text(&buf, buf.count)
    if n == 0 { return nil }
    // one line: HDF5's messages can hold a ctime() date, which ends in a newline
    return String(cString: buf).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
}

// MARK: - Paths

/// Absolute, normalized HDF5 path of `path` relative to the location `base` (itself absolute).
/// A path starting with "/" is taken from the root. Empty components and "." are dropped.
func h5Resolve(_ path: String, from base: String) -> String {
    var parts: [Substring] = []
    if !path.hasPrefix("/") {
        parts = base.split(separator: "/", omittingEmptySubsequences: true)
    }
    for p in path.split(separator: "/", omittingEmptySubsequences: true) where p != "." {
        parts.append(p)
    }
    return "/" + parts.joined(separator: "/")
}

/// How an absolute path appears in messages: "model/x", or "/" for the root.
func h5Display(_ abs: String) -> String {
    abs == "/" ? "/" : String(abs.dropFirst())
}
