import Foundation
@testable import Interop
import TestSupport
import XCTest

/// A safetensors header that points outside its file is refused when the file is opened, before
/// `tensor(_:)` could read a byte: offsets past the end, tensors that overlap, and offsets that
/// span more elements than the shape (or fewer). The fuzz harness (Fuzz/safetensors) checks the
/// same three properties on every file the reader accepts.
final class SafetensorsBoundsTests: XCTestCase {
    func refusal(_ header: String, dataBytes: Int, _ test: String) throws -> String {
        let p = TT.scratch("st-bounds", self) + "/\(test).safetensors"
        try ImportExportTests.writeSafetensors(header: header, data: Data(repeating: 0x41, count: dataBytes), to: p)
        do {
            let f = try SafetensorsFile(path: p)
            XCTFail("\(test): opened (\(f.names)), expected a refusal")
            return ""
        } catch let e as SafetensorsError {
            XCTAssertFalse(e.description.contains("\n"), e.description)
            XCTAssertTrue(e.description.hasPrefix(p), e.description)
            return e.reason
        }
    }

    func testOffsetsPastTheEndAreRefused() throws {
        // sizes agree (8 floats = 32 bytes) but the data section holds 16
        let r = try refusal(#"{"w":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}"#, dataBytes: 16, "past-end")
        XCTAssertTrue(r.contains("tensor 'w' ends at byte 32 of the data but the file holds 16"), r)
        // one byte past: begin inside, end one beyond
        let r1 = try refusal(#"{"w":{"dtype":"U8","shape":[16],"data_offsets":[1,17]}}"#, dataBytes: 16, "one-past")
        XCTAssertTrue(r1.contains("ends at byte 17"), r1)
        // a begin far past the end with an empty shape: still refused
        let r2 = try refusal(#"{"w":{"dtype":"F32","shape":[0],"data_offsets":[4096,4096]}}"#, dataBytes: 16, "empty-past")
        XCTAssertTrue(r2.contains("ends at byte 4096"), r2)
    }

    func testOverlappingTensorsAreRefused() throws {
        let r = try refusal(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#,
                            dataBytes: 32, "overlap")
        XCTAssertTrue(r.contains("tensors 'a' and 'b' overlap"), r)
        // one inside the other
        let r1 = try refusal(#"{"big":{"dtype":"F32","shape":[8],"data_offsets":[0,32]},"in":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#,
                             dataBytes: 32, "inside")
        XCTAssertTrue(r1.contains("overlap"), r1)
        // the same bytes twice
        let r2 = try refusal(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}"#,
                             dataBytes: 8, "twice")
        XCTAssertTrue(r2.contains("'x' and 'y' overlap"), r2)
    }

    func testOffsetsSpanningMoreElementsThanTheShapeAreRefused() throws {
        // shape [4] is 16 bytes; the offsets claim 64 (16 elements)
        let r = try refusal(#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,64]}}"#, dataBytes: 64, "more")
        XCTAssertTrue(r.contains("header lies about sizes: tensor 'w' is F32 [4] = 16 bytes but its data_offsets [0, 64] span 64"), r)
        // and the other way: a shape of 16 elements over 16 bytes
        let r1 = try refusal(#"{"w":{"dtype":"F32","shape":[4,4],"data_offsets":[0,16]}}"#, dataBytes: 64, "fewer")
        XCTAssertTrue(r1.contains("= 64 bytes but its data_offsets [0, 16] span 16"), r1)
        // a shape whose byte size overflows Int
        let r2 = try refusal(#"{"w":{"dtype":"F64","shape":[2305843009213693952,2],"data_offsets":[0,16]}}"#, dataBytes: 16, "overflow")
        XCTAssertTrue(r2.contains("impossible shape"), r2)
    }

    /// The edge that is allowed: a tensor ending exactly at the end, and an empty one there.
    func testTensorsUpToTheLastByteAreRead() throws {
        let p = TT.scratch("st-edge", self) + "/edge.safetensors"
        var floats = Data()
        for v: Float in [1, 2, 3, 4] { withUnsafeBytes(of: v.bitPattern.littleEndian) { floats.append(contentsOf: $0) } }
        try ImportExportTests.writeSafetensors(
            header: #"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"e":{"dtype":"F32","shape":[0],"data_offsets":[16,16]}}"#,
            data: floats, to: p)
        let f = try SafetensorsFile(path: p)
        XCTAssertEqual(try f.tensor("w").array, [1, 2, 3, 4])
        XCTAssertEqual(try f.tensor("e").count, 0)
    }
}
