// Datasets, by path: shapes, typed reads and writes, scalars (paths as in H5Location.swift).
import CHDF5

extension H5Location {
    /// Shape of the dataset at `path`: [] for a scalar. A dataset without a dataspace
    /// (h5py's `Empty`) has shape [] too but holds no element; reading it is an error.
    public func shape(of path: String) throws -> [Int] {
        try withDataset(path) { d, abs in
            let space = H5Dget_space(d)
            guard space >= 0 else { throw file.error(.io, abs, "cannot read the shape of dataset '\(h5Display(abs))'", hdf5: true) }
            defer { H5Sclose(space) }
            return try file.extent(of: space, abs, what: "dataset '\(h5Display(abs))'") ?? []
        }
    }

    /// Element type of the dataset at `path`.
    public func dtype(of path: String) throws -> H5DType {
        try withDataset(path) { d, abs in
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
        try withDataset(path) { d, abs in
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
        try withDataset(path) { d, abs in
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

    /// Opens the existing dataset at `path` (inside the HDF5 lock), hands it and its absolute
    /// path to `body`, and closes it after: the start of every read.
    private func withDataset<R>(_ path: String, _ body: (hid_t, String) throws -> R) throws -> R {
        let abs = h5Resolve(path, from: name)
        return try withH5 {
            let fid = try file.requireOpen(object: h5Display(abs))
            let d = try file.openDataset(abs, fid: fid)
            defer { H5Dclose(d) }
            return try body(d, abs)
        }
    }

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
        guard let n = h5ElementCount(shape), n <= file.plausibleElementLimit(elementSize: MemoryLayout<T>.stride) else {
            throw file.error(.shapeMismatch, abs, "dataset '\(shown)' claims shape \(shape), more than the file can hold (damaged file?)")
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
