// Attributes on the root, groups and datasets. `on`/`of` paths are relative to the location
// ("." — the default — is the location itself).
//
// Strings are written UTF-8, variable-length by default (what h5py writes for `str`, and what
// h5py reads back as `str`); fixed-length ones are NULL-padded (numpy `S`, read by h5py as
// `bytes`). Both kinds are read.
import CHDF5
import Foundation

extension H5Location {
    // MARK: Writing

    /// Sets a string attribute (replacing any attribute of that name).
    /// `variableLength: false` stores a fixed-length, NULL-padded string instead.
    /// Strings containing NUL characters are rejected (HDF5 strings end at the first NUL).
    public func setAttribute(_ attr: String, _ value: String, on path: String = ".", variableLength: Bool = true) throws {
        try setStringAttribute(attr, [value], shape: [], on: path, variableLength: variableLength)
    }

    /// Sets a 1-D string-array attribute.
    public func setAttribute(_ attr: String, _ values: [String], on path: String = ".", variableLength: Bool = true) throws {
        try setStringAttribute(attr, values, shape: [values.count], on: path, variableLength: variableLength)
    }

    /// Sets a scalar numeric attribute: Int/Int64 → int64, Double → float64, Float → float32, ….
    public func setAttribute<T: H5Element>(_ attr: String, _ value: T, on path: String = ".") throws {
        try withUnsafePointer(to: value) { p in
            try setNumericAttribute(attr, UnsafeRawPointer(p), shape: [], on: path, T.self)
        }
    }

    /// Sets a 1-D numeric array attribute.
    public func setAttribute<T: H5Element>(_ attr: String, _ values: [T], on path: String = ".") throws {
        try values.withUnsafeBufferPointer { buf in
            try setNumericAttribute(attr, UnsafeRawPointer(buf.baseAddress), shape: [buf.count], on: path, T.self)
        }
    }

    // MARK: Reading

    /// Sorted names of the attributes of the object at `path`.
    public func attributeNames(of path: String = ".") throws -> [String] {
        let abs = h5Resolve(path, from: name)
        return try withH5 {
            let fid = try file.requireOpen(object: h5Display(abs))
            try requireObject(abs, fid: fid)
            var type: Int32 = 0
            var count: UInt64 = 0
            guard vmae_h5_object_info(fid, abs, &type, &count) >= 0 else {
                throw file.error(.io, abs, "cannot list the attributes of '\(h5Display(abs))'", hdf5: true)
            }
            var names: [String] = []
            for i in 0..<count {
                let len = H5Aget_name_by_idx(fid, abs, H5_INDEX_NAME, H5_ITER_INC, hsize_t(i), nil, 0, vmae_H5P_DEFAULT())
                guard len >= 0 else { throw file.error(.io, abs, "cannot list the attributes of '\(h5Display(abs))'", hdf5: true) }
                var buf = [CChar](repeating: 0, count: Int(len) + 1)
                guard H5Aget_name_by_idx(fid, abs, H5_INDEX_NAME, H5_ITER_INC, hsize_t(i), &buf, buf.count, vmae_H5P_DEFAULT()) >= 0 else {
                    throw file.error(.io, abs, "cannot list the attributes of '\(h5Display(abs))'", hdf5: true)
                }
                names.append(String(cString: buf))
            }
            return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        }
    }

    /// Whether the object at `path` exists and has attribute `attr`.
    public func hasAttribute(_ attr: String, on path: String = ".") -> Bool {
        let abs = h5Resolve(path, from: name)
        return withH5 {
            guard let fid = try? file.requireOpen(), file.objectKind(abs, fid: fid) != nil else { return false }
            let r = H5Aexists_by_name(fid, abs, attr, vmae_H5P_DEFAULT())
            if r < 0 { _ = h5ErrorText() }
            return r > 0
        }
    }

    /// Element type of attribute `attr`.
    public func attributeDType(_ attr: String, of path: String = ".") throws -> H5DType {
        try withAttribute(attr, of: path) { a, _, _ in
            let t = H5Aget_type(a)
            guard t >= 0 else { throw file.error(.io, nil, "cannot read the type of attribute '\(attr)'", hdf5: true) }
            defer { H5Tclose(t) }
            return H5DType.of(type: t)
        }
    }

    /// Shape of attribute `attr` ([] for a scalar).
    public func attributeShape(_ attr: String, of path: String = ".") throws -> [Int] {
        try withAttribute(attr, of: path) { _, _, shape in shape ?? [] }
    }

    /// Reads a string attribute (fixed- or variable-length, scalar or a single element).
    public func stringAttribute(_ attr: String, of path: String = ".") throws -> String {
        let values = try stringArrayAttribute(attr, of: path)
        guard values.count == 1 else {
            let abs = h5Resolve(path, from: name)
            throw HDF5Error(.shapeMismatch, file: file.path, object: h5Display(abs),
                            message: "attribute '\(attr)' of '\(h5Display(abs))' holds \(values.count) strings, not one")
        }
        return values[0]
    }

    /// Reads a string attribute of any shape as a flat array (fixed- or variable-length).
    public func stringArrayAttribute(_ attr: String, of path: String = ".") throws -> [String] {
        try withAttribute(attr, of: path) { a, what, shape in
            let abs = h5Resolve(path, from: name)
            guard let shape else { return [] }
            let n = h5ElementCount(shape) ?? 0
            let ftype = H5Aget_type(a)
            guard ftype >= 0 else { throw file.error(.io, abs, "cannot read the type of \(what)", hdf5: true) }
            defer { H5Tclose(ftype) }
            guard H5Tget_class(ftype) == H5T_STRING else {
                throw file.error(.wrongDType, abs, "\(what) is \(H5DType.of(type: ftype)), not a string")
            }
            if n == 0 { return [] }
            // a damaged header can declare any shape or string size: refuse what the file cannot hold
            let stringBytes = H5Tis_variable_str(ftype) > 0 ? MemoryLayout<UnsafeMutablePointer<CChar>?>.stride : max(H5Tget_size(ftype), 1)
            guard n <= file.plausibleElementLimit(elementSize: stringBytes) else {
                throw file.error(.shapeMismatch, abs, "\(what) claims shape \(shape), more than the file can hold (damaged file?)")
            }
            let memType = H5Tcopy(vmae_H5T_C_S1())
            guard memType >= 0 else { throw file.error(.io, abs, "reading \(what) failed", hdf5: true) }
            defer { H5Tclose(memType) }
            _ = H5Tset_cset(memType, H5Tget_cset(ftype))
            if H5Tis_variable_str(ftype) > 0 {
                guard H5Tset_size(memType, vmae_H5T_VARIABLE()) >= 0 else {
                    throw file.error(.io, abs, "reading \(what) failed", hdf5: true)
                }
                var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
                guard H5Aread(a, memType, &ptrs) >= 0 else {
                    throw file.error(.io, abs, "reading \(what) failed", hdf5: true)
                }
                defer { for p in ptrs where p != nil { H5free_memory(p) } }
                return ptrs.map { $0.map { String(cString: $0) } ?? "" }
            } else {
                let size = H5Tget_size(ftype)
                guard size > 0 else { return [String](repeating: "", count: n) }
                _ = H5Tset_size(memType, size)
                _ = H5Tset_strpad(memType, H5T_STR_NULLPAD)
                var bytes = [UInt8](repeating: 0, count: n * size)
                guard H5Aread(a, memType, &bytes) >= 0 else {
                    throw file.error(.io, abs, "reading \(what) failed", hdf5: true)
                }
                let spacePadded = H5Tget_strpad(ftype) == H5T_STR_SPACEPAD
                return (0..<n).map { i in
                    var slice = bytes[(i * size)..<((i + 1) * size)]
                    if let z = slice.firstIndex(of: 0) { slice = slice[..<z] }
                    if spacePadded { while slice.last == 0x20 { slice = slice.dropLast() } }
                    return String(decoding: slice, as: UTF8.self)
                }
            }
        }
    }

    /// Reads a numeric attribute holding one value (scalar or shape [1]). The stored dtype
    /// must be `T.h5DType` unless `converting` (HDF5's numeric conversion) is set.
    public func attribute<T: H5Element>(_ attr: String, of path: String = ".", as type: T.Type = T.self,
                                        converting: Bool = false) throws -> T {
        let values = try arrayAttribute(attr, of: path, as: type, converting: converting)
        guard values.count == 1 else {
            let abs = h5Resolve(path, from: name)
            throw HDF5Error(.shapeMismatch, file: file.path, object: h5Display(abs),
                            message: "attribute '\(attr)' of '\(h5Display(abs))' holds \(values.count) values, not one")
        }
        return values[0]
    }

    /// Reads a numeric attribute of any shape as a flat array.
    public func arrayAttribute<T: H5Element>(_ attr: String, of path: String = ".", as type: T.Type = T.self,
                                             converting: Bool = false) throws -> [T] {
        try withAttribute(attr, of: path) { a, what, shape in
            let abs = h5Resolve(path, from: name)
            let ftype = H5Aget_type(a)
            guard ftype >= 0 else { throw file.error(.io, abs, "cannot read the type of \(what)", hdf5: true) }
            let stored = H5DType.of(type: ftype)
            H5Tclose(ftype)
            if converting ? !stored.isNumeric : stored != T.h5DType {
                throw file.error(.wrongDType, abs, "\(what) is \(stored), not \(T.h5DType)")
            }
            guard let shape else { return [] }
            let n = h5ElementCount(shape) ?? 0
            if n == 0 { return [] }
            guard n <= file.plausibleElementLimit(elementSize: MemoryLayout<T>.stride) else {
                throw file.error(.shapeMismatch, abs, "\(what) claims shape \(shape), more than the file can hold (damaged file?)")
            }
            return try [T](unsafeUninitializedCapacity: n) { buf, initialized in
                initialized = 0
                guard H5Aread(a, T.h5MemoryType, buf.baseAddress!) >= 0 else {
                    throw file.error(.io, abs, "reading \(what) failed", hdf5: true)
                }
                initialized = n
            }
        }
    }

    // MARK: Internal

    /// Throws unless an object exists at `abs`. Under the lock.
    private func requireObject(_ abs: String, fid: hid_t) throws {
        guard file.objectKind(abs, fid: fid) != nil else {
            throw file.error(.notFound, abs, "object '\(h5Display(abs))' not found")
        }
    }

    /// Opens attribute `attr` of the object at `path` and passes it, a description for
    /// messages and its shape (nil for a null dataspace) to `body`.
    private func withAttribute<R>(_ attr: String, of path: String,
                                  _ body: (hid_t, String, [Int]?) throws -> R) throws -> R {
        let abs = h5Resolve(path, from: name)
        let what = "attribute '\(attr)' of '\(h5Display(abs))'"
        return try withH5 {
            let fid = try file.requireOpen(object: h5Display(abs))
            try requireObject(abs, fid: fid)
            let exists = H5Aexists_by_name(fid, abs, attr, vmae_H5P_DEFAULT())
            guard exists > 0 else {
                if exists < 0 { _ = h5ErrorText() }
                throw file.error(.notFound, abs, "\(what) not found")
            }
            let a = H5Aopen_by_name(fid, abs, attr, vmae_H5P_DEFAULT(), vmae_H5P_DEFAULT())
            guard a >= 0 else { throw file.error(.io, abs, "cannot open \(what)", hdf5: true) }
            defer { H5Aclose(a) }
            let space = H5Aget_space(a)
            guard space >= 0 else { throw file.error(.io, abs, "cannot read the shape of \(what)", hdf5: true) }
            defer { H5Sclose(space) }
            let shape = try file.extent(of: space, abs, what: what)
            return try body(a, what, shape)
        }
    }

    /// Creates (replacing) attribute `attr` with file type `ftype`, shape `shape`, and writes
    /// `buf` through `memType`. Under the lock.
    private func writeAttribute(_ attr: String, abs: String, fid: hid_t, ftype: hid_t, memType: hid_t,
                                shape: [Int], _ buf: UnsafeRawPointer) throws {
        let what = "attribute '\(attr)' of '\(h5Display(abs))'"
        guard !attr.isEmpty else { throw file.error(.invalidArgument, abs, "empty attribute name on '\(h5Display(abs))'") }
        try requireObject(abs, fid: fid)
        let exists = H5Aexists_by_name(fid, abs, attr, vmae_H5P_DEFAULT())
        if exists < 0 { throw file.error(.io, abs, "cannot check \(what)", hdf5: true) }
        if exists > 0, H5Adelete_by_name(fid, abs, attr, vmae_H5P_DEFAULT()) < 0 {
            throw file.error(.io, abs, "cannot replace \(what)", hdf5: true)
        }
        let space = try file.makeSpace(shape, abs, what: what)
        defer { H5Sclose(space) }
        let a = H5Acreate_by_name(fid, abs, attr, ftype, space, vmae_H5P_DEFAULT(), vmae_H5P_DEFAULT(), vmae_H5P_DEFAULT())
        guard a >= 0 else { throw file.error(.io, abs, "cannot create \(what)", hdf5: true) }
        defer { H5Aclose(a) }
        guard H5Awrite(a, memType, buf) >= 0 else {
            throw file.error(.io, abs, "writing \(what) failed", hdf5: true)
        }
    }

    private func setNumericAttribute<T: H5Element>(_ attr: String, _ buf: UnsafeRawPointer?, shape: [Int],
                                                   on path: String, _: T.Type) throws {
        let abs = h5Resolve(path, from: name)
        try withH5 {
            let fid = try file.requireWritable(object: h5Display(abs))
            // HDF5 wants a non-null buffer even for zero elements.
            var dummy: UInt64 = 0
            try withUnsafePointer(to: &dummy) { d in
                try writeAttribute(attr, abs: abs, fid: fid, ftype: T.h5FileType, memType: T.h5MemoryType,
                                   shape: shape, buf ?? UnsafeRawPointer(d))
            }
        }
    }

    private func setStringAttribute(_ attr: String, _ values: [String], shape: [Int], on path: String,
                                    variableLength: Bool) throws {
        let abs = h5Resolve(path, from: name)
        try withH5 {
            let fid = try file.requireWritable(object: h5Display(abs))
            if values.contains(where: { $0.utf8.contains(0) }) {
                throw file.error(.invalidArgument, abs,
                                 "attribute '\(attr)' of '\(h5Display(abs))': strings may not contain NUL characters")
            }
            let t = H5Tcopy(vmae_H5T_C_S1())
            guard t >= 0 else { throw file.error(.io, abs, "cannot make a string type", hdf5: true) }
            defer { H5Tclose(t) }
            _ = H5Tset_cset(t, H5T_CSET_UTF8)
            if variableLength {
                _ = H5Tset_size(t, vmae_H5T_VARIABLE())
                let cstrs: [UnsafeMutablePointer<CChar>?] = values.map { strdup($0) }
                defer { for p in cstrs { free(p) } }
                var dummy: UnsafeMutablePointer<CChar>? = nil
                try withUnsafePointer(to: &dummy) { d in
                    try cstrs.withUnsafeBufferPointer { buf in
                        try writeAttribute(attr, abs: abs, fid: fid, ftype: t, memType: t, shape: shape,
                                           UnsafeRawPointer(buf.baseAddress ?? d))
                    }
                }
            } else {
                let size = max(1, values.map { $0.utf8.count }.max() ?? 1)
                _ = H5Tset_size(t, size)
                _ = H5Tset_strpad(t, H5T_STR_NULLPAD)
                var bytes = [UInt8](repeating: 0, count: max(1, values.count * size))
                for (i, v) in values.enumerated() {
                    for (j, b) in v.utf8.enumerated() { bytes[i * size + j] = b }
                }
                try bytes.withUnsafeBytes { raw in
                    try writeAttribute(attr, abs: abs, fid: fid, ftype: t, memType: t, shape: shape, raw.baseAddress!)
                }
            }
        }
    }
}
