// Locations and groups, by path (datasets: H5Datasets.swift). Paths are relative to the
// location (a leading "/" means the file's root); intermediate groups are created on write.
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
