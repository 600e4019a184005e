// Element types: what a dataset or attribute stores (H5DType) and the Swift types that can be
// written and read (H5Element).
import CHDF5

/// The element type of a stored dataset or attribute, named as numpy names it.
/// Byte order is not part of it: HDF5 converts big-endian data on read.
public enum H5DType: Equatable, Hashable, CustomStringConvertible, Sendable {
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    case float16, float32, float64
    /// A string, fixed- or variable-length.
    case string
    /// Anything else (compound, enum — h5py's bool —, opaque, array, reference, …).
    case other(String)

    public var description: String {
        switch self {
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint8: return "uint8"
        case .uint16: return "uint16"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .float16: return "float16"
        case .float32: return "float32"
        case .float64: return "float64"
        case .string: return "string"
        case .other(let s): return s
        }
    }

    /// Integer or floating point.
    public var isNumeric: Bool {
        switch self {
        case .string, .other: return false
        default: return true
        }
    }

    /// Classifies an HDF5 datatype id. Call under the lock.
    static func of(type t: hid_t) -> H5DType {
        let cls = H5Tget_class(t)
        let size = H5Tget_size(t)
        switch cls {
        case H5T_INTEGER:
            let signed = H5Tget_sign(t) != H5T_SGN_NONE
            switch (size, signed) {
            case (1, true): return .int8
            case (2, true): return .int16
            case (4, true): return .int32
            case (8, true): return .int64
            case (1, false): return .uint8
            case (2, false): return .uint16
            case (4, false): return .uint32
            case (8, false): return .uint64
            default: return .other("\(signed ? "int" : "uint")\(size * 8)")
            }
        case H5T_FLOAT:
            switch size {
            case 2: return .float16
            case 4: return .float32
            case 8: return .float64
            default: return .other("float\(size * 8)")
            }
        case H5T_STRING: return .string
        case H5T_COMPOUND: return .other("compound")
        case H5T_ENUM: return .other("enum")
        case H5T_OPAQUE: return .other("opaque")
        case H5T_ARRAY: return .other("array")
        case H5T_VLEN: return .other("vlen")
        case H5T_REFERENCE: return .other("reference")
        case H5T_BITFIELD: return .other("bitfield")
        case H5T_TIME: return .other("time")
        default: return .other("unknown")
        }
    }
}

/// A Swift type that can be stored as an HDF5 element: Float (float32), Double (float64),
/// Int64 and Int (int64), Int32 (int32), UInt8 (uint8).
/// Stored little-endian (the standard types), read through the native type.
public protocol H5Element {
    /// The stored element type.
    static var h5DType: H5DType { get }
    /// HDF5's native (in-memory) datatype for this Swift type.
    static var h5MemoryType: hid_t { get }
    /// HDF5's file datatype used when writing.
    static var h5FileType: hid_t { get }
}

extension Float: H5Element {
    public static var h5DType: H5DType { .float32 }
    public static var h5MemoryType: hid_t { vmae_H5T_NATIVE_FLOAT() }
    public static var h5FileType: hid_t { vmae_H5T_IEEE_F32LE() }
}

extension Double: H5Element {
    public static var h5DType: H5DType { .float64 }
    public static var h5MemoryType: hid_t { vmae_H5T_NATIVE_DOUBLE() }
    public static var h5FileType: hid_t { vmae_H5T_IEEE_F64LE() }
}

extension Int64: H5Element {
    public static var h5DType: H5DType { .int64 }
    public static var h5MemoryType: hid_t { vmae_H5T_NATIVE_INT64() }
    public static var h5FileType: hid_t { vmae_H5T_STD_I64LE() }
}

/// `Int` is stored as int64 (it is 64-bit on every platform vmae builds for).
extension Int: H5Element {
    public static var h5DType: H5DType { .int64 }
    public static var h5MemoryType: hid_t { vmae_H5T_NATIVE_INT64() }
    public static var h5FileType: hid_t { vmae_H5T_STD_I64LE() }
}

extension Int32: H5Element {
    public static var h5DType: H5DType { .int32 }
    public static var h5MemoryType: hid_t { vmae_H5T_NATIVE_INT32() }
    public static var h5FileType: hid_t { vmae_H5T_STD_I32LE() }
}

extension UInt8: H5Element {
    public static var h5DType: H5DType { .uint8 }
    public static var h5MemoryType: hid_t { vmae_H5T_NATIVE_UINT8() }
    public static var h5FileType: hid_t { vmae_H5T_STD_U8LE() }
}
