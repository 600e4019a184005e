import Foundation

/// TFRecord framing, the container of TensorBoard event files. Each record is
///   uint64 length (little-endian) · uint32 masked CRC-32C of those 8 bytes ·
///   `length` bytes of payload · uint32 masked CRC-32C of the payload
/// (tensorflow/core/lib/io/record_writer.cc).
public enum TFRecord {
    /// The record around `payload`, ready to append to a file.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(payload.count + 16)
        let header = littleEndian(UInt64(payload.count))
        out += header
        out += littleEndian(CRC32C.masked(header))
        out += payload
        out += littleEndian(CRC32C.masked(payload))
        return out
    }

    /// The payloads of every record in `bytes`, each CRC checked. `path` only names the file in
    /// errors. A record cut short or a CRC that does not match is a `TFRecordError` with the
    /// byte offset of the record.
    public static func payloads(_ bytes: [UInt8], path: String) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        var at = 0
        while at < bytes.count {
            guard bytes.count - at >= 12 else {
                throw TFRecordError(path: path, offset: at, "record header cut short (\(bytes.count - at) of 12 bytes)")
            }
            let header = Array(bytes[at..<at + 8])
            let length = header.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            guard CRC32C.masked(header) == readUInt32(bytes, at + 8) else {
                throw TFRecordError(path: path, offset: at, "length CRC mismatch (the record's length field is corrupt)")
            }
            let start = at + 12
            guard length <= UInt64(bytes.count - start), bytes.count - start - Int(length) >= 4 else {
                throw TFRecordError(path: path, offset: at, "record of \(length) bytes cut short (\(bytes.count - start) bytes left)")
            }
            let end = start + Int(length)
            let payload = Array(bytes[start..<end])
            guard CRC32C.masked(payload) == readUInt32(bytes, end) else {
                throw TFRecordError(path: path, offset: at, "payload CRC mismatch (the record's \(length) bytes of data are corrupt)")
            }
            out.append(payload)
            at = end + 4
        }
        return out
    }

    static func littleEndian<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }

    static func readUInt32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}

/// A TFRecord file that does not read: which file, where, and why.
public struct TFRecordError: Error, CustomStringConvertible {
    public let path: String
    public let offset: Int
    public let reason: String
    public init(path: String, offset: Int, _ reason: String) {
        self.path = path
        self.offset = offset
        self.reason = reason
    }
    public var description: String { "\(path): record at byte \(offset): \(reason)" }
}
