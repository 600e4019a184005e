import CHDF5
import Foundation
import XCTest
@testable import HDF5

/// A fresh temporary directory per test, removed afterwards.
class HDF5TestCase: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmae-hdf5-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Runs `body`, which must throw an HDF5Error of `kind`; returns it.
    @discardableResult
    func expectError(_ kind: HDF5Error.Kind, file: StaticString = #filePath, line: UInt = #line,
                     _ body: () throws -> Void) -> HDF5Error? {
        do {
            try body()
            XCTFail("expected an HDF5Error \(kind), nothing was thrown", file: file, line: line)
        } catch let e as HDF5Error {
            XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: line)
            return e
        } catch {
            XCTFail("expected an HDF5Error, got \(error)", file: file, line: line)
        }
        return nil
    }
}

final class DatasetTests: HDF5TestCase {
    static let shapes: [[Int]] = [[], [1], [7], [3, 4], [2, 1, 3, 2, 2], [0], [3, 0, 2]]

    func checkRoundTrip<T: H5Element & Equatable>(_ type: T.Type, _ make: (Int) -> T, bits: (T) -> UInt64) throws {
        let p = path("rt_\(T.self).h5")
        var written: [String: ([T], [Int])] = [:]
        do {
            let f = try H5File.create(p)
            for (i, shape) in Self.shapes.enumerated() {
                let n = shape.reduce(1, *)
                let values = (0..<n).map { make($0 + 31 * i) }
                let name = "g/rank\(shape.count)_\(i)"
                try f.write(name, values, shape: shape)
                written[name] = (values, shape)
            }
            try f.close()
        }
        let f = try H5File.open(p)
        defer { try? f.close() }
        for (name, (values, shape)) in written {
            XCTAssertEqual(try f.dtype(of: name), T.h5DType)
            XCTAssertEqual(try f.shape(of: name), shape, name)
            let (got, gotShape) = try f.readWithShape(name, as: T.self)
            XCTAssertEqual(gotShape, shape, name)
            XCTAssertEqual(got.map(bits), values.map(bits), name)
            // Into a caller's buffer.
            var buf = [T](repeating: make(0), count: values.count)
            let s = try buf.withUnsafeMutableBufferPointer { b -> [Int] in
                var dummy = make(0)
                return try f.read(name, into: b.baseAddress ?? withUnsafeMutablePointer(to: &dummy) { $0 }, count: b.count)
            }
            XCTAssertEqual(s, shape)
            XCTAssertEqual(buf.map(bits), values.map(bits), name)
        }
        XCTAssertEqual(try f.members(of: "g").count, Self.shapes.count)
    }

    func testRoundTripFloat32() throws {
        let specials: [Float] = [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude,
                                 .greatestFiniteMagnitude, -.leastNormalMagnitude, 1e-3, .pi]
        try checkRoundTrip(Float.self, { i in i < specials.count ? specials[i] : Float(i) * 0.37 - 11 },
                           bits: { UInt64($0.bitPattern) })
    }

    func testRoundTripFloat64() throws {
        let specials: [Double] = [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude,
                                  .greatestFiniteMagnitude, 1e-300, .pi]
        try checkRoundTrip(Double.self, { i in i < specials.count ? specials[i] : Double(i) * 0.37 - 11 },
                           bits: { $0.bitPattern })
    }

    func testRoundTripInt64() throws {
        let specials: [Int64] = [.min, .max, 0, -1, 1 << 53 + 1]
        try checkRoundTrip(Int64.self, { i in i < specials.count ? specials[i] : Int64(i) * -977 },
                           bits: { UInt64(bitPattern: $0) })
        try checkRoundTrip(Int.self, { i in i == 0 ? .min : i * 1_000_003 }, bits: { UInt64(bitPattern: Int64($0)) })
    }

    func testRoundTripInt32() throws {
        try checkRoundTrip(Int32.self, { i in i == 0 ? .min : i == 1 ? .max : Int32(i) * -7 },
                           bits: { UInt64(UInt32(bitPattern: $0)) })
    }

    func testRoundTripUInt8() throws {
        try checkRoundTrip(UInt8.self, { UInt8(truncatingIfNeeded: $0 * 37) }, bits: { UInt64($0) })
    }

    func testPointerWriteAndLargeTensor() throws {
        let p = path("big.h5")
        let n = 1 << 20
        let src = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { src.deallocate() }
        for i in 0..<n { src[i] = Float(i) * 0.5 }
        let f = try H5File.create(p)
        try f.write("model/w", from: UnsafePointer(src), count: n, shape: [1024, 1024])
        try f.flush(sync: true)
        try f.close()
        let g = try H5File.open(p)
        let dst = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { dst.deallocate() }
        XCTAssertEqual(try g.read("model/w", into: dst, count: n), [1024, 1024])
        XCTAssertEqual(memcmp(src, dst, n * 4), 0)
        // A wrong-size buffer is an error, and the message names file and dataset.
        let e = expectError(.shapeMismatch) { try g.read("model/w", into: dst, count: n - 1) }
        XCTAssertTrue(e?.description.contains("big.h5: dataset 'model/w'") ?? false, e?.description ?? "")
    }

    func testScalarAndWriteOverwrite() throws {
        let f = try H5File.create(path("s.h5"))
        try f.write("loss", scalar: Float(2.5))
        XCTAssertEqual(try f.shape(of: "loss"), [])
        XCTAssertEqual(try f.readScalar("loss", as: Float.self), 2.5)
        // Same dtype and shape: overwritten in place.
        try f.write("loss", scalar: Float(1.25))
        XCTAssertEqual(try f.readScalar("loss", as: Float.self), 1.25)
        try f.write("v", [1, 2, 3] as [Float], shape: [3])
        try f.write("v", [4, 5, 6] as [Float], shape: [3])
        XCTAssertEqual(try f.read("v", as: Float.self), [4, 5, 6])
        // Different shape or dtype, or a group in the way: refused.
        expectError(.alreadyExists) { try f.write("v", [1, 2] as [Float], shape: [2]) }
        expectError(.alreadyExists) { try f.write("v", [1, 2, 3] as [Double], shape: [3]) }
        try f.createGroup("grp")
        expectError(.alreadyExists) { try f.write("grp", scalar: Int64(1)) }
        // Shape and count disagree; negative dims.
        expectError(.shapeMismatch) { try f.write("w", [1, 2, 3] as [Float], shape: [2, 2]) }
        expectError(.invalidArgument) { try f.write("w", [Float](), shape: [-1]) }
        XCTAssertFalse(f.exists("w"))
        // Readscalar on a vector.
        expectError(.shapeMismatch) { _ = try f.readScalar("v", as: Float.self) }
    }

    func testWrongDTypeAndConvertingRead() throws {
        let f = try H5File.create(path("d.h5"))
        try f.write("x", [1.5, -2.25, 3] as [Double], shape: [3])
        try f.write("i", [1, -2, 300] as [Int32], shape: [3])
        let e = expectError(.wrongDType) { _ = try f.read("x", as: Float.self) }
        XCTAssertEqual(e?.description.hasSuffix("d.h5: dataset 'x' is float64, not float32"), true, e?.description ?? "")
        expectError(.wrongDType) { _ = try f.read("x", as: Int64.self) }
        expectError(.wrongDType) { _ = try f.read("i", as: Int64.self) }
        expectError(.wrongDType) { _ = try f.read("i", as: UInt8.self) }
        var buf = [Float](repeating: 0, count: 3)
        expectError(.wrongDType) { try buf.withUnsafeMutableBufferPointer { _ = try f.read("x", into: $0.baseAddress!, count: 3) } }
        // Converting reads go through HDF5's conversion.
        XCTAssertEqual(try f.read("x", as: Float.self, converting: true), [1.5, -2.25, 3])
        XCTAssertEqual(try f.read("i", as: Double.self, converting: true), [1, -2, 300])
        XCTAssertEqual(try f.read("i", as: Int64.self, converting: true), [1, -2, 300])
        // A string attribute is never a number.
        try f.setAttribute("s", "text")
        expectError(.wrongDType) { _ = try f.attribute("s", as: Int64.self, converting: true) }
        expectError(.wrongDType) { _ = try f.attribute("s", as: Int64.self) }
    }
}

final class GroupTests: HDF5TestCase {
    func testGroupsMembersExists() throws {
        let f = try H5File.create(path("g.h5"))
        let b = try f.createGroup("a/b")
        XCTAssertEqual(b.name, "/a/b")
        XCTAssertTrue(f.isGroup("a"))
        XCTAssertTrue(f.isGroup("/a/b"))
        XCTAssertEqual(try f.createGroup("a/b").name, "/a/b") // idempotent
        try b.write("w", [1, 2] as [Float], shape: [2])
        try f.write("a/z", scalar: Int64(3))
        try f.write("model/encoder.blocks.0.attn.qkv.weight", [Float](repeating: 1, count: 6), shape: [3, 2])
        try f.write("model/B", [Float](), shape: [0])
        try f.write("model/a", scalar: Float(0))

        XCTAssertEqual(try f.members(of: "/"), ["a", "model"])
        XCTAssertEqual(try f.members(), ["a", "model"])
        XCTAssertEqual(try f.members(of: "a"), ["b", "z"])
        XCTAssertEqual(try f.members(of: "model"), ["B", "a", "encoder.blocks.0.attn.qkv.weight"])
        XCTAssertEqual(try b.members(), ["w"])
        XCTAssertEqual(try b.read("w", as: Float.self), [1, 2])
        XCTAssertEqual(try b.read("/a/z", as: Int64.self), [3]) // absolute from a group

        XCTAssertTrue(f.exists("a/b/w"))
        XCTAssertTrue(f.isDataset("a/b/w"))
        XCTAssertFalse(f.isGroup("a/b/w"))
        XCTAssertFalse(f.isDataset("a/b"))
        XCTAssertFalse(f.exists("a/b/missing"))
        XCTAssertFalse(f.exists("no/such/path"))
        XCTAssertFalse(f.exists("a/b/w/below_a_dataset"))
        XCTAssertTrue(f.exists("/"))

        let g = try f.group("model")
        XCTAssertEqual(try g.shape(of: "encoder.blocks.0.attn.qkv.weight"), [3, 2])
        expectError(.notFound) { _ = try f.group("nope") }
        expectError(.wrongKind) { _ = try f.group("a/z") }
        expectError(.notFound) { _ = try f.members(of: "nope") }
        expectError(.wrongKind) { _ = try f.members(of: "a/z") }
        expectError(.alreadyExists) { try f.createGroup("a/z") }
        let e = expectError(.wrongKind) { _ = try f.read("a", as: Float.self) }
        XCTAssertEqual(e?.message, "'a' is a group, not a dataset")
        try f.close()

        // Reopened read-only: same content; writes refused.
        let r = try H5File.open(path("g.h5"))
        XCTAssertEqual(try r.members(of: "model"), ["B", "a", "encoder.blocks.0.attn.qkv.weight"])
        XCTAssertEqual(try r.shape(of: "model/B"), [0])
        XCTAssertEqual(try r.read("model/B", as: Float.self), [])
        expectError(.readOnly) { try r.write("new", scalar: Float(1)) }
        expectError(.readOnly) { try r.createGroup("new") }
        expectError(.readOnly) { try r.setAttribute("x", "y") }
        try r.close()

        // Reopened writable: can add.
        let w = try H5File.open(path("g.h5"), writable: true)
        try w.write("added", scalar: Int32(5))
        try w.close()
        XCTAssertEqual(try H5File.open(path("g.h5")).readScalar("added", as: Int32.self), 5)
    }
}

final class AttributeTests: HDF5TestCase {
    func testAttributesOfEveryKind() throws {
        let p = path("a.h5")
        let f = try H5File.create(p)
        try f.write("model/w", [1, 2, 3, 4] as [Float], shape: [2, 2])
        let g = try f.group("model")
        let targets: [(H5Location, String)] = [(f, "."), (f, "model"), (f, "model/w"), (g, "."), (g, "w")]
        for (i, (loc, obj)) in targets.enumerated() {
            try loc.setAttribute("s_var", "vmae-checkpoint \(i) ✓", on: obj)
            try loc.setAttribute("s_fixed", "fixed \(i)", on: obj, variableLength: false)
            try loc.setAttribute("s_empty", "", on: obj)
            try loc.setAttribute("s_empty_fixed", "", on: obj, variableLength: false)
            try loc.setAttribute("i64", Int64(-(1 << 40) - Int64(i)), on: obj)
            try loc.setAttribute("int", 100 + i, on: obj)
            try loc.setAttribute("f64", 1e-3 * Double(i + 1), on: obj)
            try loc.setAttribute("f32", Float(0.1), on: obj)
            try loc.setAttribute("a_i64", [Int64(1), -2, .max], on: obj)
            try loc.setAttribute("a_f64", [0.9, 0.999, .infinity], on: obj)
            try loc.setAttribute("a_empty", [Double](), on: obj)
            try loc.setAttribute("a_str", ["x", "yy", ""], on: obj)
        }
        // Replacing an attribute changes its type too.
        try f.setAttribute("int", "now a string", on: "model")
        try f.close()

        let r = try H5File.open(p)
        for (i, (_, obj)) in targets.enumerated() where i < 3 {
            let loc: H5Location = r
            XCTAssertEqual(try loc.attributeNames(of: obj),
                           ["a_empty", "a_f64", "a_i64", "a_str", "f32", "f64", "i64", "int",
                            "s_empty", "s_empty_fixed", "s_fixed", "s_var"])
        }
        // The last write to each object wins (targets 3 and 4 rewrote model and model/w).
        for (obj, i) in [(".", 0), ("model", 3), ("model/w", 4)] {
            XCTAssertEqual(try r.stringAttribute("s_var", of: obj), "vmae-checkpoint \(i) ✓")
            XCTAssertEqual(try r.stringAttribute("s_fixed", of: obj), "fixed \(i)")
            XCTAssertEqual(try r.stringAttribute("s_empty", of: obj), "")
            XCTAssertEqual(try r.stringAttribute("s_empty_fixed", of: obj), "")
            XCTAssertEqual(try r.attribute("i64", of: obj, as: Int64.self), -(1 << 40) - Int64(i))
            XCTAssertEqual(try r.attribute("f64", of: obj, as: Double.self), 1e-3 * Double(i + 1))
            XCTAssertEqual(try r.attribute("f32", of: obj, as: Float.self), Float(0.1))
            XCTAssertEqual(try r.arrayAttribute("a_i64", of: obj, as: Int64.self), [1, -2, .max])
            XCTAssertEqual(try r.arrayAttribute("a_f64", of: obj, as: Double.self), [0.9, 0.999, .infinity])
            XCTAssertEqual(try r.arrayAttribute("a_empty", of: obj, as: Double.self), [])
            XCTAssertEqual(try r.attributeShape("a_empty", of: obj), [0])
            XCTAssertEqual(try r.stringArrayAttribute("a_str", of: obj), ["x", "yy", ""])
            XCTAssertEqual(try r.attributeShape("i64", of: obj), [])
            XCTAssertEqual(try r.attributeDType("f32", of: obj), .float32)
            XCTAssertEqual(try r.attributeDType("s_var", of: obj), .string)
        }
        XCTAssertEqual(try r.attribute("int", as: Int.self), 100)
        XCTAssertEqual(try r.stringAttribute("int", of: "model"), "now a string")
        XCTAssertEqual(try r.group("model").stringAttribute("s_var", of: "w"), "vmae-checkpoint 4 ✓")
        XCTAssertTrue(r.hasAttribute("f32", on: "model/w"))
        XCTAssertFalse(r.hasAttribute("nope", on: "model/w"))
        XCTAssertFalse(r.hasAttribute("f32", on: "missing"))

        // Errors name file, object and attribute.
        let e = expectError(.notFound) { _ = try r.stringAttribute("nope", of: "model/w") }
        XCTAssertEqual(e?.description, "\(p): attribute 'nope' of 'model/w' not found")
        expectError(.notFound) { _ = try r.attributeNames(of: "missing") }
        expectError(.wrongDType) { _ = try r.attribute("f64", as: Float.self) }
        expectError(.wrongDType) { _ = try r.stringAttribute("f64") }
        expectError(.shapeMismatch) { _ = try r.attribute("a_i64", as: Int64.self) }
        expectError(.shapeMismatch) { _ = try r.stringAttribute("a_str") }
        XCTAssertEqual(try r.attribute("f64", as: Float.self, converting: true), Float(1e-3))
    }

    func testLargeStringAttribute() throws {
        // A long JSON config exceeds the 64 KiB that fits in an object header.
        let big = String(repeating: "{\"key\": \"value\"}, ", count: 12_000)
        let f = try H5File.create(path("big_attr.h5"))
        try f.setAttribute("config", big)
        try f.setAttribute("config_fixed", big, variableLength: false)
        try f.close()
        let r = try H5File.open(path("big_attr.h5"))
        XCTAssertEqual(try r.stringAttribute("config"), big)
        XCTAssertEqual(try r.stringAttribute("config_fixed"), big)
    }

    func testNulInStringRejected() throws {
        let f = try H5File.create(path("nul.h5"))
        expectError(.invalidArgument) { try f.setAttribute("s", "a\u{0}b") }
    }

    /// String attributes written straight through the C API, the ways h5py and numpy do:
    /// variable-length (UTF-8 and ASCII) and fixed-length (NULL-padded, NULL-terminated,
    /// space-padded).
    func testReadsForeignStringAttributes() throws {
        let p = path("foreign.h5")
        withH5 {
            let fid = H5Fcreate(p, vmae_H5F_ACC_TRUNC(), vmae_H5P_DEFAULT(), vmae_H5P_DEFAULT())
            XCTAssertGreaterThanOrEqual(fid, 0)
            func put(_ name: String, size: Int?, cset: H5T_cset_t, pad: H5T_str_t, bytes: [UInt8]?, vlen: String?) {
                let t = H5Tcopy(vmae_H5T_C_S1())
                XCTAssertGreaterThanOrEqual(H5Tset_size(t, size ?? vmae_H5T_VARIABLE()), 0)
                H5Tset_cset(t, cset)
                H5Tset_strpad(t, pad)
                let space = H5Screate(H5S_SCALAR)
                let a = H5Acreate2(fid, name, t, space, vmae_H5P_DEFAULT(), vmae_H5P_DEFAULT())
                XCTAssertGreaterThanOrEqual(a, 0)
                if let vlen {
                    vlen.withCString { c in
                        var ptr: UnsafePointer<CChar>? = c
                        XCTAssertGreaterThanOrEqual(H5Awrite(a, t, &ptr), 0)
                    }
                } else {
                    XCTAssertGreaterThanOrEqual(H5Awrite(a, t, bytes!), 0)
                }
                H5Aclose(a); H5Sclose(space); H5Tclose(t)
            }
            put("vlen_utf8", size: nil, cset: H5T_CSET_UTF8, pad: H5T_STR_NULLTERM, bytes: nil, vlen: "naïve ✓ vlen")
            put("vlen_ascii", size: nil, cset: H5T_CSET_ASCII, pad: H5T_STR_NULLTERM, bytes: nil, vlen: "plain")
            put("fixed_nullpad", size: 8, cset: H5T_CSET_ASCII, pad: H5T_STR_NULLPAD, bytes: Array("pretrain".utf8), vlen: nil)
            put("fixed_short", size: 8, cset: H5T_CSET_ASCII, pad: H5T_STR_NULLPAD, bytes: Array("tube".utf8) + [0, 0, 0, 0], vlen: nil)
            put("fixed_nullterm", size: 6, cset: H5T_CSET_ASCII, pad: H5T_STR_NULLTERM, bytes: Array("abcde".utf8) + [0], vlen: nil)
            put("fixed_spacepad", size: 6, cset: H5T_CSET_ASCII, pad: H5T_STR_SPACEPAD, bytes: Array("ab    ".utf8), vlen: nil)
            put("fixed_utf8", size: 5, cset: H5T_CSET_UTF8, pad: H5T_STR_NULLPAD, bytes: Array("é✓".utf8), vlen: nil)
            XCTAssertGreaterThanOrEqual(H5Fclose(fid), 0)
        }
        let f = try H5File.open(p)
        XCTAssertEqual(try f.stringAttribute("vlen_utf8"), "naïve ✓ vlen")
        XCTAssertEqual(try f.stringAttribute("vlen_ascii"), "plain")
        XCTAssertEqual(try f.stringAttribute("fixed_nullpad"), "pretrain")
        XCTAssertEqual(try f.stringAttribute("fixed_short"), "tube")
        XCTAssertEqual(try f.stringAttribute("fixed_nullterm"), "abcde")
        XCTAssertEqual(try f.stringAttribute("fixed_spacepad"), "ab")
        XCTAssertEqual(try f.stringAttribute("fixed_utf8"), "é✓")
        XCTAssertEqual(try f.attributeNames(),
                       ["fixed_nullpad", "fixed_nullterm", "fixed_short", "fixed_spacepad", "fixed_utf8", "vlen_ascii", "vlen_utf8"])
    }
}

final class FileErrorTests: HDF5TestCase {
    func testMissingFile() {
        let p = path("missing.h5")
        let e = expectError(.fileNotFound) { _ = try H5File.open(p) }
        XCTAssertEqual(e?.description, "\(p): no such file")
        expectError(.fileNotFound) { _ = try H5File.open(dir.path) }
        expectError(.openFailed) { _ = try H5File.create(path("no/such/dir/x.h5")) }
    }

    func testEmptyAndTextFiles() throws {
        let empty = path("empty.h5")
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        expectError(.notHDF5) { _ = try H5File.open(empty) }
        expectError(.notHDF5) { _ = try H5File.open(empty, writable: true) }
        let text = path("notes.h5")
        try "this is not HDF5\n".write(toFile: text, atomically: true, encoding: .utf8)
        let e = expectError(.notHDF5) { _ = try H5File.open(text) }
        XCTAssertTrue(e?.description.hasPrefix("\(text): not an HDF5 file") ?? false, e?.description ?? "")
        // Large random-looking binary data too.
        try Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }).write(to: URL(fileURLWithPath: path("noise.h5")))
        expectError(.notHDF5) { _ = try H5File.open(path("noise.h5")) }
    }

    func testTruncatedFile() throws {
        let p = path("trunc.h5")
        let f = try H5File.create(p)
        try f.write("model/w", [Float](repeating: 0.5, count: 50_000), shape: [50_000])
        try f.setAttribute("config", "{}")
        try f.close()
        let size = try FileManager.default.attributesOfItem(atPath: p)[.size] as! NSNumber
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: p))
        try h.truncate(atOffset: UInt64(size.intValue / 2))
        try h.close()
        let e = expectError(.openFailed) { _ = try H5File.open(p) }
        XCTAssertTrue(e?.description.hasPrefix(p) ?? false)
        XCTAssertNotNil(e?.detail)
        expectError(.openFailed) { _ = try H5File.open(p, writable: true) }
    }

    func testMissingDatasetAndClosedFile() throws {
        let p = path("step_100.h5")
        let f = try H5File.create(p)
        try f.createGroup("model")
        let e = expectError(.notFound) { _ = try f.read("model/x", as: Float.self) }
        XCTAssertEqual(e?.description, "\(p): dataset 'model/x' not found")
        XCTAssertEqual(e?.object, "model/x")
        expectError(.notFound) { _ = try f.shape(of: "model/x") }
        expectError(.notFound) { _ = try f.dtype(of: "a/b/c") }
        expectError(.notFound) { _ = try f.group("model").read("x", as: Float.self) }
        try f.close()
        try f.close() // twice is fine
        XCTAssertFalse(f.isOpen)
        XCTAssertFalse(f.exists("model"))
        expectError(.closed) { _ = try f.members() }
        expectError(.closed) { try f.write("y", scalar: Float(1)) }
        expectError(.closed) { try f.flush() }
        // A file closed by deinit can be reopened.
        do { _ = try H5File.open(p) }
        XCTAssertEqual(try H5File.open(p).members(), ["model"])
    }
}

final class ConcurrencyTests: HDF5TestCase {
    /// Several threads writing and reading their own files at once: the global lock keeps
    /// the (non-thread-safe) C library consistent.
    func testConcurrentUse() throws {
        let shared = try H5File.create(path("shared.h5"))
        try shared.write("x", (0..<1000).map(Float.init), shape: [10, 100])
        let failures = NSLock()
        var errors: [String] = []
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            do {
                for k in 0..<6 {
                    let f = try H5File.create(path("t\(t)_\(k).h5"))
                    for j in 0..<40 {
                        let values = (0..<50).map { Float($0 + t * 1000 + k * 100 + j) }
                        try f.write("a/b\(j % 5)/v\(j)", values, shape: [5, 10])
                        try f.setAttribute("k", k * 100 + j, on: "a/b\(j % 5)/v\(j)")
                        try f.setAttribute("s", "thread \(t)", on: "a/b\(j % 5)")
                    }
                    try f.close()
                    let r = try H5File.open(path("t\(t)_\(k).h5"))
                    for j in 0..<40 {
                        let values = (0..<50).map { Float($0 + t * 1000 + k * 100 + j) }
                        if try r.read("a/b\(j % 5)/v\(j)", as: Float.self) != values
                            || (try r.attribute("k", of: "a/b\(j % 5)/v\(j)", as: Int.self)) != k * 100 + j
                            || (try r.stringAttribute("s", of: "a/b\(j % 5)")) != "thread \(t)" {
                            throw HDF5Error(.io, file: r.path, message: "mismatch")
                        }
                    }
                    if try shared.read("x", as: Float.self)[999] != 999 { throw HDF5Error(.io, file: "shared", message: "mismatch") }
                }
            } catch {
                failures.lock(); errors.append("\(error)"); failures.unlock()
            }
        }
        XCTAssertEqual(errors, [])
    }
}

final class SilenceTests: HDF5TestCase {
    /// HDF5 errors on any thread print nothing to stderr. (In a thread-safe HDF5 build — as
    /// Debian's "serial" package is — error stacks and their auto-print setting are per thread.)
    func testNothingPrintedOnStderrFromAnyThread() throws {
        let text = path("text.h5")
        try "not hdf5".write(toFile: text, atomically: true, encoding: .utf8)
        let good = try H5File.create(path("good.h5"))
        try good.write("x", scalar: Float(1))

        let capture = path("stderr.txt")
        XCTAssertTrue(FileManager.default.createFile(atPath: capture, contents: nil))
        fflush(stderr)
        let saved = dup(2)
        let fd = open(capture, O_WRONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        dup2(fd, 2)
        close(fd)

        var threads: [Thread] = []
        let done = DispatchGroup()
        for t in 0..<4 {
            done.enter()
            let th = Thread { [self] in
                _ = try? H5File.open(text)
                _ = try? H5File.open(path("trunc_\(t).h5"))
                _ = try? H5File.create(path("no/dir/x.h5"))
                _ = try? good.read("x", as: Double.self)
                _ = try? good.read("missing", as: Float.self)
                _ = try? good.stringAttribute("missing")
                done.leave()
            }
            threads.append(th)
            th.start()
        }
        done.wait()

        fflush(stderr)
        dup2(saved, 2)
        close(saved)
        let printed = try String(contentsOfFile: capture, encoding: .utf8)
        XCTAssertEqual(printed, "", "HDF5 printed to stderr")
    }
}
