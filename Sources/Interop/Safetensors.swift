import Foundation
import TensorCore

/// A safetensors file that cannot be used, with the path and the reason (one line).
public struct SafetensorsError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public init(_ path: String, _ reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): \(reason)" }
}

/// A safetensors file, memory-mapped (read-only; nothing is copied until a tensor is asked for).
///
/// Layout: 8 bytes little-endian header length `n`; `n` bytes of JSON
/// `{"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, …}`;
/// then the data, offsets relative to its start. Every entry is checked against the file
/// before anything is read: a known dtype, a shape whose byte size is `end − begin`, and
/// `begin ≤ end ≤` the data's length, with no two tensors overlapping. A header that lies is a
/// `SafetensorsError`, never a read outside the mapping.
public final class SafetensorsFile {
    public struct Entry {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        public let begin: Int   // byte offsets within the data section
        public let end: Int
        public var count: Int { shape.reduce(1, *) }
    }

    /// Bytes per element of the dtypes the format defines (only F32, F16, BF16, F64 convert to float32).
    public static let elementSize: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1,
        "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
    ]
    public static let convertible: Set<String> = ["F32", "F16", "BF16", "F64"]
    /// The reference implementation's limit on the header.
    static let maxHeader = 100 << 20

    public let path: String
    /// Entries in the order of their data offsets.
    public let entries: [Entry]
    public let metadata: [String: String]
    private let byName: [String: Int]
    private let base: UnsafeMutableRawPointer?
    private let mappedBytes: Int
    private let dataStart: Int

    public var names: [String] { entries.map(\.name) }
    public func entry(_ name: String) -> Entry? { byName[name].map { entries[$0] } }

    public init(path: String) throws {
        self.path = path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw SafetensorsError(path, "no such file") }
        guard !isDir.boolValue else { throw SafetensorsError(path, "is a folder, not a safetensors file") }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SafetensorsError(path, "cannot open (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SafetensorsError(path, "cannot stat (\(String(cString: strerror(errno))))") }
        let size = Int(st.st_size)
        guard size >= 8 else {
            throw SafetensorsError(path, "not a safetensors file (\(size) bytes: too short for the 8-byte header length)")
        }
        guard let m = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            throw SafetensorsError(path, "cannot map the file (\(String(cString: strerror(errno))))")
        }
        var ok = false
        defer { if !ok { munmap(m, size) } }
        let n64 = m.loadUnaligned(as: UInt64.self).littleEndian
        guard n64 >= 2, n64 <= UInt64(SafetensorsFile.maxHeader) else {
            throw SafetensorsError(path, "not a safetensors file (header length \(n64) is not between 2 and 100 MB)")
        }
        let n = Int(n64)
        guard 8 + n <= size else {
            throw SafetensorsError(path, "truncated or not a safetensors file (the header says \(n) bytes of JSON, the file has \(size - 8) after the length)")
        }
        let headerBytes = Data(bytes: m + 8, count: n)
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw SafetensorsError(path, "not a safetensors file (the header is not a JSON object)")
        }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: headerBytes) } catch {
            throw SafetensorsError(path, "corrupted safetensors header (not valid JSON)")
        }
        guard let header = json as? [String: Any] else {
            throw SafetensorsError(path, "corrupted safetensors header (not a JSON object)")
        }
        let dataLength = size - 8 - n
        var meta: [String: String] = [:]
        var list: [Entry] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let d = value as? [String: Any] else { throw SafetensorsError(path, "corrupted safetensors header (__metadata__ is not an object)") }
                for (k, v) in d { meta[k] = (v as? String) ?? "\(v)" }
                continue
            }
            list.append(try SafetensorsFile.parseEntry(name, value, dataLength: dataLength, path: path))
        }
        list.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for (a, b) in zip(list, list.dropFirst()) where b.begin < a.end {
            throw SafetensorsError(path, "corrupted safetensors header (tensors '\(a.name)' and '\(b.name)' overlap)")
        }
        entries = list
        metadata = meta
        byName = Dictionary(list.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { a, _ in a })
        base = m
        mappedBytes = size
        dataStart = 8 + n
        ok = true
    }

    deinit { if let base { munmap(base, mappedBytes) } }

    static func parseEntry(_ name: String, _ value: Any, dataLength: Int, path: String) throws -> Entry {
        func bad(_ why: String) -> SafetensorsError { SafetensorsError(path, "corrupted safetensors header: tensor '\(name)' \(why)") }
        guard let d = value as? [String: Any] else { throw bad("is not an object") }
        guard let dtype = d["dtype"] as? String else { throw bad("has no dtype") }
        guard let esize = elementSize[dtype] else { throw bad("has an unknown dtype \"\(dtype)\"") }
        guard let rawShape = d["shape"] as? [Any] else { throw bad("has no shape list") }
        var shape: [Int] = []
        for s in rawShape {
            guard let v = exactInt(s), v >= 0 else { throw bad("has a shape entry that is not a non-negative integer") }
            shape.append(v)
        }
        guard let offs = d["data_offsets"] as? [Any], offs.count == 2, let begin = exactInt(offs[0]), let end = exactInt(offs[1]) else {
            throw bad("has no data_offsets [begin, end]")
        }
        guard begin >= 0, begin <= end else { throw bad("has data_offsets [\(begin), \(end)] out of order") }
        var bytes = esize
        for s in shape {
            let (p, o) = bytes.multipliedReportingOverflow(by: s)
            guard !o else { throw bad("has an impossible shape \(shape)") }
            bytes = p
        }
        guard end - begin == bytes else {
            throw SafetensorsError(path, "header lies about sizes: tensor '\(name)' is \(dtype) \(shape) = \(bytes) bytes but its data_offsets [\(begin), \(end)] span \(end - begin)")
        }
        guard end <= dataLength else {
            throw SafetensorsError(path, "truncated or lying header: tensor '\(name)' ends at byte \(end) of the data but the file holds \(dataLength)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// An integer JSON number (not a bool, not fractional, within Int range).
    static func exactInt(_ v: Any) -> Int? {
        guard let n = v as? NSNumber else { return nil }
        let t = String(cString: n.objCType)
        if t == "c" || t == "B" { return nil }
        if t == "f" || t == "d" {
            let x = n.doubleValue
            guard x.rounded() == x, abs(x) < 9e15 else { return nil }
            return Int(x)
        }
        if t == "Q" { return n.uint64Value <= UInt64(Int.max) ? Int(n.uint64Value) : nil }
        return n.intValue
    }

    /// The tensor as float32 (F32, F16, BF16 and F64 are converted; the file is only read here).
    public func tensor(_ name: String) throws -> Tensor {
        guard let e = entry(name) else { throw SafetensorsError(path, "has no tensor '\(name)'") }
        guard SafetensorsFile.convertible.contains(e.dtype) else {
            throw SafetensorsError(path, "tensor '\(name)' is \(e.dtype); vmae reads F32, F16, BF16 (and F64)")
        }
        let t = Tensor(uninitialized: e.shape)
        let src = UnsafeRawPointer(base!) + dataStart + e.begin
        SafetensorsFile.convert(src, dtype: e.dtype, into: t.data, count: e.count)
        return t
    }

    /// Little-endian `dtype` elements at `src` (any alignment) → float32.
    static func convert(_ src: UnsafeRawPointer, dtype: String, into dst: UnsafeMutablePointer<Float>, count: Int) {
        switch dtype {
        case "F32":
            for i in 0..<count { dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case "F16":
            for i in 0..<count { dst[i] = Float(halfBits: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case "BF16":
            for i in 0..<count { dst[i] = Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
        case "F64":
            for i in 0..<count { dst[i] = Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
        default:
            preconditionFailure("unconvertible dtype \(dtype)")
        }
    }
}

extension Float {
    /// IEEE 754 binary16 bits → Float (exact: every half is a float).
    init(halfBits h: UInt16) {
        let sign = UInt32(h >> 15) << 31
        let exp = Int((h >> 10) & 0x1F)
        let frac = UInt32(h & 0x3FF)
        if exp == 0x1F {
            self = Float(bitPattern: sign | 0x7F80_0000 | (frac << 13))        // inf / nan
        } else if exp == 0 {
            let mag = Float(frac) * 0x1p-24                                      // zero / subnormal
            self = sign != 0 ? -mag : mag
        } else {
            self = Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (frac << 13))
        }
    }
}

/// Writing safetensors (float32 tensors, the layout above), atomically: a temporary file in
/// the same folder, flushed, then renamed into place.
public enum SafetensorsWriter {
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = ["format": "pt"], to path: String) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, t) in tensors {
            let bytes = t.count * 4
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }   // the data starts 8-aligned
        var out = Data(capacity: 8 + json.count + offset)
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, t) in tensors {
            var le = [UInt32](repeating: 0, count: t.count)
            for i in 0..<t.count { le[i] = t.data[i].bitPattern.littleEndian }
            le.withUnsafeBytes { out.append(contentsOf: $0) }
        }
        try writeAtomically(out, to: path)
    }

    /// `data` to `path` through a temporary file in the same folder (fsync, rename).
    public static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        guard FileManager.default.createFile(atPath: tmp, contents: data) else {
            throw SafetensorsError(path, "cannot write (\(String(cString: strerror(errno))))")
        }
        let fd = open(tmp, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
        guard rename(tmp, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(tmp)
            throw SafetensorsError(path, "cannot move the temporary file into place (\(why))")
        }
    }
}
