// Groups and datasets, by path. Paths are relative to the location (a leading "/" means the
// file's root); intermediate groups are created on write.
import CHDF5

/// A place in a file that paths are resolved against: the file itself (root "/") or a group.
public protocol H5Location {
    var file: H5File { get }
    /// Absolute path inside the file, h5py style: "/" or "/model".
    var name: String { get }
}

/// A group of an open file: a (file, path) pair; holds no HDF5 handle of its own.
public struct H5Group: H5Location, @unchecked Sendable {
    public let file: H5File
    public let name: String
}

enum H5ObjectKind { case group, dataset, other }

extension H5File {
    /// The kind of the object at an absolute path, nil if there is none. Call under the lock.
    /// Checks each link on the way, so a missing intermediate group is "none", not an error.
    func objectKind(_ abs: String, fid: hid_t) -> H5ObjectKind? {
        if abs != "/" {
            var prefix = ""
            for part in abs.split(separator: "/") {
                prefix += "/" + part
                if H5Lexists(fid, prefix, vmae_H5P_DEFAULT()) <= 0 {
                    _ = h5ErrorText()
                    return nil
                }
            }
        }
        var type: Int32 = -1
        var nattrs: UInt64 = 0
        guard vmae_h5_object_info(fid, abs, &type, &nattrs) >= 0 else {
            _ = h5ErrorText() // dangling soft link or external link
            return nil
        }
        switch type {
        case Int32(H5O_TYPE_GROUP.rawValue): return .group
        case Int32(H5O_TYPE_DATASET.rawValue): return .dataset
        default: return .other
        }
    }

    /// Link creation properties that create missing intermediate groups. Call under the lock.
    func makeLinkCreate() -> hid_t {
        let lcpl = H5Pcreate(vmae_H5P_LINK_CREATE())
        if lcpl >= 0 { _ = H5Pset_create_intermediate_group(lcpl, 1) }
        return lcpl
    }

    /// Opens the dataset at `abs`; the caller closes it. Call under the lock.
    func openDataset(_ abs: String, fid: hid_t) throws -> hid_t {
        switch objectKind(abs, fid: fid) {
        case nil: throw error(.notFound, abs, "dataset '\(h5Display(abs))' not found")
        case .group?: throw error(.wrongKind, abs, "'\(h5Display(abs))' is a group, not a dataset")
        case .other?: throw error(.wrongKind, abs, "'\(h5Display(abs))' is not a dataset")
        case .dataset?: break
        }
        let d = H5Dopen2(fid, abs, vmae_H5P_DEFAULT())
        guard d >= 0 else { throw error(.io, abs, "cannot open dataset '\(h5Display(abs))'", hdf5: true) }
        return d
    }

    /// Shape of a dataspace; nil for a null dataspace (no data at all). Call under the lock.
    func extent(of space: hid_t, _ abs: String, what: String) throws -> [Int]? {
        let cls = H5Sget_simple_extent_type(space)
        if cls == H5S_NULL { return nil }
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0 else { throw error(.io, abs, "cannot read the shape of \(what)", hdf5: true) }
        if rank == 0 { return [] }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        guard H5Sget_simple_extent_dims(space, &dims, nil) >= 0 else {
            throw error(.io, abs, "cannot read the shape of \(what)", hdf5: true)
        }
        return dims.map { Int($0) }
    }

    /// A dataspace for `shape` (scalar for []); the caller closes it. Call under the lock.
    func makeSpace(_ shape: [Int], _ abs: String, what: String) throws -> hid_t {
        guard shape.count <= 32 else {
            throw error(.invalidArgument, abs, "\(what): rank \(shape.count) exceeds HDF5's limit of 32")
        }
        if let bad = shape.first(where: { $0 < 0 }) {
            throw error(.invalidArgument, abs, "\(what): negative dimension \(bad) in shape \(shape)")
        }
        let space: hid_t
        if shape.isEmpty {
            space = H5Screate(H5S_SCALAR)
        } else {
            let dims = shape.map { hsize_t($0) }
            space = H5Screate_simple(Int32(dims.count), dims, nil)
        }
        guard space >= 0 else { throw error(.io, abs, "\(what): cannot make a dataspace for shape \(shape)", hdf5: true) }
        return space
    }
}

/// Number of elements of a shape, or nil on overflow.
func h5ElementCount(_ shape: [Int]) -> Int? {
    var n = 1
    for d in shape {
        guard d >= 0 else { return nil }
        let (p, o) = n.multipliedReportingOverflow(by: d)
        if o { return nil }
        n = p
    }
    return n
}

// MARK: - Groups

extension H5Location {
    /// Creates the group at `path` and any missing intermediate groups. If it already exists
    /// as a group, returns it; if something else is there, throws `.alreadyExists`.
    @discardableResult
    public func createGroup(_ path: String) throws -> H5Group {
        let abs = h5Resolve(path, from: name)
        return try withH5 {
            let fid = try file.requireWritable(object: h5Display(abs))
            switch file.objectKind(abs, fid: fid) {
            case .group?: return H5Group(file: file, name: abs)
            case .some: throw file.error(.alreadyExists, abs, "cannot create group '\(h5Display(abs))': an object of another kind exists there")
            case nil: break
            }
            let lcpl = file.makeLinkCreate()
            defer { if lcpl >= 0 { H5Pclose(lcpl) } }
            let g = H5Gcreate2(fid, abs, lcpl, vmae_H5P_DEFAULT(), vmae_H5P_DEFAULT())
            guard g >= 0 else { throw file.error(.io, abs, "cannot create group '\(h5Display(abs))'", hdf5: true) }
            H5Gclose(g)
            return H5Group(file: file, name: abs)
        }
    }

    /// The existing group at `path` ("." or "/" for this location / the root).
    public func group(_ path: String) throws -> H5Group {
        let abs = h5Resolve(path, from: name)
        return try withH5 {
            let fid = try file.requireOpen(object: h5Display(abs))
            switch file.objectKind(abs, fid: fid) {
            case .group?: return H5Group(file: file, name: abs)
            case nil: throw file.error(.notFound, abs, "group '\(h5Display(abs))' not found")
            case .some: throw file.error(.wrongKind, abs, "'\(h5Display(abs))' is not a group")
            }
        }
    }

    /// Whether a group, dataset or other object exists at `path`. False for a closed file.
    public func exists(_ path: String) -> Bool {
        let abs = h5Resolve(path, from: name)
        return withH5 {
            guard let fid = try? file.requireOpen() else { return false }
            return file.objectKind(abs, fid: fid) != nil
        }
    }

    /// Whether `path` is a dataset (false if missing).
    public func isDataset(_ path: String) -> Bool {
        let abs = h5Resolve(path, from: name)
        return withH5 {
            guard let fid = try? file.requireOpen() else { return false }
            return file.objectKind(abs, fid: fid) == .dataset
        }
    }

    /// Whether `path` is a group (false if missing).
    public func isGroup(_ path: String) -> Bool {
        let abs = h5Resolve(path, from: name)
        return withH5 {
            guard let fid = try? file.requireOpen() else { return false }
            return file.objectKind(abs, fid: fid) == .group
        }
    }

    /// Names (not paths) of the links in the group at `path`, sorted by their UTF-8 bytes.
    public func members(of path: String = ".") throws -> [String] {
        let abs = h5Resolve(path, from: name)
        return try withH5 {
            let fid = try file.requireOpen(object: h5Display(abs))
            switch file.objectKind(abs, fid: fid) {
            case .group?: break
            case nil: throw file.error(.notFound, abs, "group '\(h5Display(abs))' not found")
            case .some: throw file.error(.wrongKind, abs, "'\(h5Display(abs))' is not a group")
            }
            let g = H5Gopen2(fid, abs, vmae_H5P_DEFAULT())
            guard g >= 0 else { throw file.error(.io, abs, "cannot open group '\(h5Display(abs))'", hdf5: true) }
            defer { H5Gclose(g) }
            var info = H5G_info_t()
            guard H5Gget_info(g, &info) >= 0 else {
                throw file.error(.io, abs, "cannot list group '\(h5Display(abs))'", hdf5: true)
            }
            var names: [String] = []
            names.reserveCapacity(Int(info.nlinks))
            for i in 0..<info.nlinks {
                let len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, vmae_H5P_DEFAULT())
                guard len >= 0 else { throw file.error(.io, abs, "cannot list group '\(h5Display(abs))'", hdf5: true) }
                var buf = [CChar](repeating: 0, count: Int(len) + 1)
                guard H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, buf.count, vmae_H5P_DEFAULT()) >= 0 else {
                    throw file.error(.io, abs, "cannot list group '\(h5Display(abs))'", hdf5: true)
                }
                names.append(String(cString: buf))
            }
            return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        }
    }
}

// MARK: - Datasets

extension H5Location {
    /// Shape of the dataset at `path`: [] for a scalar. A dataset without a dataspace
    /// (h5py's `Empty`) has shape [] too but holds no element; reading it is an error.
    public func shape(of path: String) throws -> [Int] {
        let abs = h5Resolve(path, from: name)
        return try withH5 {
            let fid = try file.requireOpen(object: h5Display(abs))
            let d = try file.openDataset(abs, fid: fid)
            defer { H5Dclose(d) }
            let space = H5Dget_space(d)
            guard space >= 0 else { throw file.error(.io, abs, "cannot read the shape of dataset '\(h5Display(abs))'", hdf5: true) }
            defer { H5Sclose(space) }
            return try file.extent(of: space, abs, what: "dataset '\(h5Display(abs))'") ?? []
        }
    }

    /// Element type of the dataset at `path`.
    public func dtype(of path: String) throws -> H5DType {
        let abs = h5Resolve(path, from: name)
        return try withH5 {
            let fid = try file.requireOpen(object: h5Display(abs))
            let d = try file.openDataset(abs, fid: fid)
            defer { H5Dclose(d) }
            let t = H5Dget_type(d)
            guard t >= 0 else { throw file.error(.io, abs, "cannot read the type of dataset '\(h5Display(abs))'", hdf5: true) }
            defer { H5Tclose(t) }
            return H5DType.of(type: t)
        }
    }

    /// Writes `values` (row-major, `values.count == product(shape)`) as the dataset at `path`
    /// with element type `T` (`shape: []` for a scalar). Missing intermediate groups are created.
    /// An existing dataset with the same dtype and shape is overwritten in place; anything
    /// else already at `path` is an `.alreadyExists` error.
    public func write<T: H5Element>(_ path: String, _ values: [T], shape: [Int]) throws {
        try values.withUnsafeBufferPointer { buf in
            try writeRaw(path, UnsafeRawPointer(buf.baseAddress), count: buf.count, shape: shape, T.self)
        }
    }

    /// Writes `count` elements from `pointer` (row-major) as the dataset at `path`, without copying.
    public func write<T: H5Element>(_ path: String, from pointer: UnsafePointer<T>, count: Int, shape: [Int]) throws {
        try writeRaw(path, UnsafeRawPointer(pointer), count: count, shape: shape, T.self)
    }

    /// Writes a scalar (rank-0) dataset.
    public func write<T: H5Element>(_ path: String, scalar value: T) throws {
        try write(path, [value], shape: [])
    }

    /// Reads the dataset at `path` as a flat row-major array. The stored dtype must be
    /// `T.h5DType` exactly (byte order aside), unless `converting` is set: then any integer or
    /// float dataset is read through HDF5's own conversion: float64 → float32 rounds (overflow
    /// gives ±inf), integers saturate at the target's range, floats → integers truncate toward
    /// zero and saturate (NaN becomes the minimum). Strings and other types never convert.
    public func read<T: H5Element>(_ path: String, as type: T.Type = T.self, converting: Bool = false) throws -> [T] {
        try readWithShape(path, as: type, converting: converting).values
    }

    /// Reads the dataset at `path` with its shape.
    public func readWithShape<T: H5Element>(_ path: String, as type: T.Type = T.self,
                                            converting: Bool = false) throws -> (values: [T], shape: [Int]) {
        let abs = h5Resolve(path, from: name)
        return try withH5 {
            let fid = try file.requireOpen(object: h5Display(abs))
            let d = try file.openDataset(abs, fid: fid)
            defer { H5Dclose(d) }
            let shape = try checkDataset(d, abs, T.self, converting: converting)
            let n = h5ElementCount(shape) ?? 0
            let values = try [T](unsafeUninitializedCapacity: n) { buf, initialized in
                initialized = 0
                try readDataset(d, abs, into: UnsafeMutableRawPointer(buf.baseAddress), count: n, T.self)
                initialized = n
            }
            return (values, shape)
        }
    }

    /// Reads the dataset at `path` into `pointer`, which must hold exactly as many elements as
    /// the dataset (`count`); a different count is a `.shapeMismatch` error. Returns the shape.
    @discardableResult
    public func read<T: H5Element>(_ path: String, into pointer: UnsafeMutablePointer<T>, count: Int,
                                   converting: Bool = false) throws -> [Int] {
        let abs = h5Resolve(path, from: name)
        return try withH5 {
            let fid = try file.requireOpen(object: h5Display(abs))
            let d = try file.openDataset(abs, fid: fid)
            defer { H5Dclose(d) }
            let shape = try checkDataset(d, abs, T.self, converting: converting)
            let n = h5ElementCount(shape) ?? 0
            guard n == count else {
                throw file.error(.shapeMismatch, abs,
                                 "dataset '\(h5Display(abs))' has \(n) elements (shape \(shape)), the buffer holds \(count)")
            }
            try readDataset(d, abs, into: UnsafeMutableRawPointer(pointer), count: n, T.self)
            return shape
        }
    }

    /// Reads a dataset holding exactly one element (a scalar, or shape [1], [1, 1], …).
    public func readScalar<T: H5Element>(_ path: String, as type: T.Type = T.self, converting: Bool = false) throws -> T {
        let (values, shape) = try readWithShape(path, as: type, converting: converting)
        guard values.count == 1 else {
            let abs = h5Resolve(path, from: name)
            throw HDF5Error(.shapeMismatch, file: file.path, object: h5Display(abs),
                            message: "dataset '\(h5Display(abs))' has shape \(shape), not a single value")
        }
        return values[0]
    }

    // MARK: Internal

    private func writeRaw<T: H5Element>(_ path: String, _ buf: UnsafeRawPointer?, count: Int, shape: [Int], _: T.Type) throws {
        let abs = h5Resolve(path, from: name)
        let shown = h5Display(abs)
        try withH5 {
            let fid = try file.requireWritable(object: shown)
            guard abs != "/" else { throw file.error(.invalidArgument, abs, "cannot write a dataset at the root '/'") }
            guard let n = h5ElementCount(shape) else {
                throw file.error(.invalidArgument, abs, "dataset '\(shown)': invalid shape \(shape)")
            }
            guard n == count else {
                throw file.error(.shapeMismatch, abs, "dataset '\(shown)': shape \(shape) holds \(n) elements, \(count) given")
            }
            var d: hid_t
            switch file.objectKind(abs, fid: fid) {
            case .dataset?:
                d = try file.openDataset(abs, fid: fid)
                do {
                    let t = H5Dget_type(d)
                    let stored = t >= 0 ? H5DType.of(type: t) : .other("unknown")
                    if t >= 0 { H5Tclose(t) }
                    let space = H5Dget_space(d)
                    let oldShape = space >= 0 ? try file.extent(of: space, abs, what: "dataset '\(shown)'") : nil
                    if space >= 0 { H5Sclose(space) }
                    guard stored == T.h5DType, oldShape == shape else {
                        throw file.error(.alreadyExists, abs,
                                         "dataset '\(shown)' already exists as \(stored) \(oldShape.map { "\($0)" } ?? "(no data)"), cannot overwrite it with \(T.h5DType) \(shape)")
                    }
                } catch {
                    H5Dclose(d)
                    throw error
                }
            case .some:
                throw file.error(.alreadyExists, abs, "cannot write dataset '\(shown)': a group or other object exists there")
            case nil:
                let space = try file.makeSpace(shape, abs, what: "dataset '\(shown)'")
                defer { H5Sclose(space) }
                let lcpl = file.makeLinkCreate()
                defer { if lcpl >= 0 { H5Pclose(lcpl) } }
                d = H5Dcreate2(fid, abs, T.h5FileType, space, lcpl, vmae_H5P_DEFAULT(), vmae_H5P_DEFAULT())
                guard d >= 0 else { throw file.error(.io, abs, "cannot create dataset '\(shown)'", hdf5: true) }
            }
            defer { H5Dclose(d) }
            if n > 0 {
                guard let buf else { throw file.error(.invalidArgument, abs, "dataset '\(shown)': no data buffer") }
                guard H5Dwrite(d, T.h5MemoryType, vmae_H5S_ALL(), vmae_H5S_ALL(), vmae_H5P_DEFAULT(), buf) >= 0 else {
                    throw file.error(.io, abs, "writing dataset '\(shown)' failed", hdf5: true)
                }
            }
        }
    }

    /// Checks the dtype of an open dataset against `T` and returns its shape. Under the lock.
    private func checkDataset<T: H5Element>(_ d: hid_t, _ abs: String, _: T.Type, converting: Bool) throws -> [Int] {
        let shown = h5Display(abs)
        let t = H5Dget_type(d)
        guard t >= 0 else { throw file.error(.io, abs, "cannot read the type of dataset '\(shown)'", hdf5: true) }
        let stored = H5DType.of(type: t)
        H5Tclose(t)
        if converting ? !stored.isNumeric : stored != T.h5DType {
            throw file.error(.wrongDType, abs, "dataset '\(shown)' is \(stored), not \(T.h5DType)")
        }
        let space = H5Dget_space(d)
        guard space >= 0 else { throw file.error(.io, abs, "cannot read the shape of dataset '\(shown)'", hdf5: true) }
        defer { H5Sclose(space) }
        guard let shape = try file.extent(of: space, abs, what: "dataset '\(shown)'") else {
            throw file.error(.shapeMismatch, abs, "dataset '\(shown)' has no data (null dataspace)")
        }
        return shape
    }

    /// Reads all of an open dataset. Under the lock.
    private func readDataset<T: H5Element>(_ d: hid_t, _ abs: String, into buf: UnsafeMutableRawPointer?, count: Int, _: T.Type) throws {
        guard count > 0 else { return }
        guard let buf else { throw file.error(.invalidArgument, abs, "dataset '\(h5Display(abs))': no buffer") }
        guard H5Dread(d, T.h5MemoryType, vmae_H5S_ALL(), vmae_H5S_ALL(), vmae_H5P_DEFAULT(), buf) >= 0 else {
            throw file.error(.io, abs, "reading dataset '\(h5Display(abs))' failed", hdf5: true)
        }
    }
}
