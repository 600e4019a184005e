// An open HDF5 file. Holds the only long-lived HDF5 handle of this module.
import CHDF5
import Foundation

public final class H5File: H5Location, @unchecked Sendable {
    /// The file system path as given to `create`/`open` (used in error messages).
    public let path: String
    /// Whether the file was created or opened for writing.
    public let isWritable: Bool
    /// The HDF5 file id; -1 once closed. Guarded by the global HDF5 lock.
    private var id: hid_t

    public var file: H5File { self }
    /// The root group's path, "/".
    public var name: String { "/" }

    private init(path: String, id: hid_t, writable: Bool) {
        self.path = path
        self.id = id
        self.isWritable = writable
    }

    deinit {
        try? close()
    }

    /// Whether `close()` has not been called yet.
    public var isOpen: Bool { withH5 { id >= 0 } }

    /// File access properties used for every open and create. Call under the lock.
    /// - Object formats of HDF5 1.8 (low = high = v18): readable by any HDF5 ≥ 1.8 and thus
    ///   by every h5py, and attributes larger than 64 KiB (a long JSON config) go to dense
    ///   attribute storage instead of failing.
    /// - File locking where the file system supports it, silently none where it does not.
    private static func makeFileAccess() -> hid_t {
        let fapl = H5Pcreate(vmae_H5P_FILE_ACCESS())
        if fapl >= 0 {
            _ = H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18)
            _ = vmae_h5_set_file_locking(fapl, 1, 1)
        }
        return fapl
    }

    /// Creates `path`, truncating an existing file, open for writing.
    public static func create(_ path: String) throws -> H5File {
        try withH5 {
            let fapl = makeFileAccess()
            defer { if fapl >= 0 { H5Pclose(fapl) } }
            let id = H5Fcreate(path, vmae_H5F_ACC_TRUNC(), vmae_H5P_DEFAULT(), fapl >= 0 ? fapl : vmae_H5P_DEFAULT())
            guard id >= 0 else {
                throw HDF5Error(.openFailed, file: path, message: "cannot create file", detail: h5ErrorText())
            }
            return H5File(path: path, id: id, writable: true)
        }
    }

    /// Opens an existing file, read-only unless `writable`.
    /// A missing file, an empty or non-HDF5 file, or a damaged/truncated one is a thrown error.
    /// Where the executable turned `HDF5Isolation` on, a child process first reads the file
    /// with the reader named `checkedAs` (one of the executable's `IsolatedReader`s; by default
    /// `HDF5Isolation.walk`, everything in it); a file that crashes or hangs libhdf5 there is an
    /// error of kind `.damaged`.
    public static func open(_ path: String, writable: Bool = false,
                            checkedAs reader: String = HDF5Isolation.walkReader) throws -> H5File {
        try checkPlainFile(path)
        try HDF5Isolation.check(path, reader: reader)
        return try openInProcess(path, writable: writable)
    }

    /// A missing path, a folder or an empty file is refused before libhdf5 sees it.
    private static func checkPlainFile(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw HDF5Error(.fileNotFound, file: path, message: "no such file")
        }
        if isDir.boolValue {
            throw HDF5Error(.fileNotFound, file: path, message: "is a directory, not an HDF5 file")
        }
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber,
           size.intValue == 0 {
            throw HDF5Error(.notHDF5, file: path, message: "empty file, not an HDF5 file")
        }
    }

    /// `open` without the child process (the child's own open, and where isolation is off).
    static func openInProcess(_ path: String, writable: Bool = false) throws -> H5File {
        try checkPlainFile(path)
        return try withH5 {
            let fapl = makeFileAccess()
            defer { if fapl >= 0 { H5Pclose(fapl) } }
            let flags = writable ? vmae_H5F_ACC_RDWR() : vmae_H5F_ACC_RDONLY()
            let id = H5Fopen(path, flags, fapl >= 0 ? fapl : vmae_H5P_DEFAULT())
            guard id >= 0 else {
                let detail = h5ErrorText()
                if H5Fis_hdf5(path) > 0 {
                    throw HDF5Error(.openFailed, file: path,
                                    message: "cannot open HDF5 file (truncated, damaged, locked or not permitted)",
                                    detail: detail)
                }
                _ = h5ErrorText() // clear what H5Fis_hdf5 left
                throw HDF5Error(.notHDF5, file: path, message: "not an HDF5 file", detail: detail)
            }
            return H5File(path: path, id: id, writable: writable)
        }
    }

    /// How many HDF5 objects (files, groups, datasets, types, attributes) are open in this
    /// process. 0 between reads: a reader that returned, by value or by error, closed all it opened.
    public static var openObjects: Int {
        // H5F_OBJ_ALL = FILE|DATASET|GROUP|DATATYPE|ATTR, a macro Swift cannot import; as the
        // first argument it means "in every open file"
        withH5 { Int(H5Fget_obj_count(hid_t(0x1F), 0x1F)) }
    }

    /// Closes the file (flushing it). Closing again is a no-op. Also done on deinit.
    public func close() throws {
        try withH5 {
            guard id >= 0 else { return }
            let fid = id
            id = -1
            if H5Fclose(fid) < 0 {
                throw HDF5Error(.io, file: path, message: "closing the file failed", detail: h5ErrorText())
            }
        }
    }

    /// Writes HDF5's buffers to the operating system. With `sync`, also fsyncs the file
    /// descriptor so the data is on disk (use before renaming a temporary file into place).
    public func flush(sync: Bool = false) throws {
        try withH5 {
            let fid = try requireOpen()
            if H5Fflush(fid, H5F_SCOPE_GLOBAL) < 0 {
                throw HDF5Error(.io, file: path, message: "flushing the file failed", detail: h5ErrorText())
            }
            if sync {
                var fd: Int32 = -1
                if vmae_h5_file_fd(fid, &fd) < 0 || fd < 0 {
                    throw HDF5Error(.io, file: path, message: "cannot get the file descriptor to sync", detail: h5ErrorText())
                }
                if fsync(fd) != 0 {
                    throw HDF5Error(.io, file: path, message: "fsync failed: \(String(cString: strerror(errno)))")
                }
            }
        }
    }

    // MARK: Internal

    /// The open file id, or a `.closed` error. Call under the lock.
    func requireOpen(object: String? = nil) throws -> hid_t {
        guard id >= 0 else {
            throw HDF5Error(.closed, file: path, object: object, message: "file is closed")
        }
        return id
    }

    /// The open file id for a write, or an error if closed or read-only. Call under the lock.
    func requireWritable(object: String) throws -> hid_t {
        let fid = try requireOpen(object: object)
        guard isWritable else {
            throw HDF5Error(.readOnly, file: path, object: object,
                            message: "cannot write '\(object)': file is open read-only")
        }
        return fid
    }

    /// The most elements of `elementSize` bytes that one dataset of this file can hold. A damaged
    /// header can declare any shape; readers refuse one above this before allocating for it.
    /// 1032:1 is deflate's best ratio, and 1 MiB of slack covers small datasets left at their
    /// fill value.
    public func plausibleElementLimit(elementSize: Int) -> Int {
        var bytes: hsize_t = 0
        if id >= 0 { _ = withH5 { H5Fget_filesize(id, &bytes) } }
        let onDisk = Int(clamping: bytes)
        let (scaled, overflow) = onDisk.multipliedReportingOverflow(by: 1032)
        return overflow ? Int.max : (scaled + (1 << 20)) / max(elementSize, 1)
    }

    func error(_ kind: HDF5Error.Kind, _ abs: String?, _ message: String, hdf5: Bool = false) -> HDF5Error {
        HDF5Error(kind, file: path, object: abs.map(h5Display), message: message, detail: hdf5 ? h5ErrorText() : nil)
    }
}
