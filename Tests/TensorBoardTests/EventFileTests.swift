import Foundation
import XCTest
@testable import TensorBoard

final class EventFileTests: XCTestCase {
    var dir = ""

    override func setUp() {
        dir = NSTemporaryDirectory() + "vmae-tb-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Bit by bit, as the definition reads: the validator of the table-driven checksum.
    func naiveCRC32C(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    func testCRC32CKnownValues() {
        // the check value of CRC-32C, and the iSCSI test vectors of RFC 3720 (B.4)
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }), 0x113F_DB5C)
        XCTAssertEqual(CRC32C.checksum([]), 0)
    }

    func testCRC32CMatchesBitwiseDefinitionAtEveryLength() {
        var rng = SystemRandomNumberGenerator()
        for n in 0..<70 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            XCTAssertEqual(CRC32C.checksum(bytes), naiveCRC32C(bytes), "length \(n)")
        }
    }

    func testMaskIsTensorFlowsRotateAndAdd() {
        // TensorFlow's Unmask inverts it: rot = masked - 0xa282ead8; (rot >> 17) | (rot << 15)
        for crc: UInt32 in [0, 1, 0xE306_9283, 0xFFFF_FFFF, 0x8000_0000] {
            let m = CRC32C.mask(crc)
            let rot = m &- 0xA282_EAD8
            XCTAssertEqual((rot >> 17) | (rot << 15), crc)
        }
        XCTAssertEqual(CRC32C.mask(0), 0xA282_EAD8)
        XCTAssertEqual(CRC32C.mask(1 << 15), 0xA282_EAD9)
    }

    func testFrameLayout() {
        let payload: [UInt8] = Array("hello".utf8)
        let r = TFRecord.frame(payload)
        XCTAssertEqual(r.count, 8 + 4 + 5 + 4)
        XCTAssertEqual(Array(r[0..<8]), [5, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(TFRecord.readUInt32(r, 8), CRC32C.mask(CRC32C.checksum(Array(r[0..<8]))))
        XCTAssertEqual(Array(r[12..<17]), payload)
        XCTAssertEqual(TFRecord.readUInt32(r, 17), CRC32C.mask(CRC32C.checksum(payload)))
        XCTAssertEqual(try TFRecord.payloads(r + TFRecord.frame([]), path: "x"), [payload, []])
    }

    func writeSample() throws -> String {
        let w = try EventWriter(logDir: dir, wallTime: 1_700_000_000.25)
        try w.scalars([("train/loss", 0.75), ("train/lr", 1.5e-4)], step: 10)
        try w.scalars([("train/loss", 0.5)], step: 20)
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<300).map { UInt8($0 & 0xFF) }
        try w.image("recon", png: png, width: 64, height: 32, step: 20)
        try w.text("config", "{\"seed\": 0}", step: 0)
        try w.sessionStart(step: 21)
        w.close()
        return w.path
    }

    func testRoundTrip() throws {
        let path = try writeSample()
        let name = (path as NSString).lastPathComponent
        XCTAssertTrue(name.hasPrefix("events.out.tfevents.1700000000."), name)
        XCTAssertEqual(EventReader.files(logDir: dir), [path])

        let events = try EventReader.events(path: path)
        XCTAssertEqual(events.count, 6)
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(events[0].wallTime, 1_700_000_000.25)

        XCTAssertEqual(events[1].step, 10)
        XCTAssertEqual(events[1].summary.value.map(\.tag), ["train/loss", "train/lr"])
        XCTAssertEqual(events[1].summary.value.map(\.simpleValue), [0.75, Float(1.5e-4)])
        XCTAssertEqual(events[2].step, 20)

        let img = events[3].summary.value[0]
        XCTAssertEqual(img.tag, "recon")
        XCTAssertEqual([img.image.width, img.image.height, img.image.colorspace], [64, 32, 3])
        XCTAssertEqual(img.image.encodedImageString.count, 308)
        XCTAssertEqual(Array(img.image.encodedImageString.prefix(4)), [0x89, 0x50, 0x4E, 0x47])

        let text = events[4].summary.value[0]
        XCTAssertEqual(text.tag, "config")
        XCTAssertEqual(text.metadata.pluginData.pluginName, "text")
        XCTAssertEqual(text.tensor.dtype, .dtString)
        XCTAssertEqual(text.tensor.tensorShape.dim.count, 0)
        XCTAssertEqual(text.tensor.stringVal.map { String(decoding: $0, as: UTF8.self) }, ["{\"seed\": 0}"])

        XCTAssertEqual(events[5].sessionLog.status, .start)
        XCTAssertEqual(events[5].step, 21)

        let loss = try EventReader.scalars("train/loss", logDir: dir)
        XCTAssertEqual(loss.map(\.step), [10, 20])
        XCTAssertEqual(loss.map(\.value), [0.75, 0.5])
    }

    func testFlippedByteIsDetected() throws {
        let path = try writeSample()
        let good = [UInt8](FileManager.default.contents(atPath: path)!)
        let first = try TFRecord.payloads(good, path: path)[0].count + 16   // where record 1 starts

        func failure(_ bytes: [UInt8]) -> TFRecordError? {
            let bad = dir + "/bad.tfevents"
            XCTAssertTrue(FileManager.default.createFile(atPath: bad, contents: Data(bytes)))
            do { _ = try EventReader.events(path: bad); return nil } catch let e as TFRecordError { return e } catch {
                XCTFail("unexpected \(error)")
                return nil
            }
        }
        // one bit of a payload byte (the step-10 scalar event), then of a length byte
        var b = good
        b[first + 12 + 3] ^= 0x01
        let e1 = failure(b)
        XCTAssertEqual(e1?.offset, first)
        XCTAssertTrue(e1?.description.contains("payload CRC mismatch") ?? false, "\(String(describing: e1))")
        XCTAssertTrue(e1?.description.contains("bad.tfevents") ?? false)

        b = good
        b[first + 1] ^= 0x40
        let e2 = failure(b)
        XCTAssertEqual(e2?.offset, first)
        XCTAssertTrue(e2?.description.contains("length CRC mismatch") ?? false, "\(String(describing: e2))")

        // a flipped bit in a stored CRC is caught too, and so is a file cut mid-record
        b = good
        b[b.count - 1] ^= 0x80
        XCTAssertTrue(failure(b)?.description.contains("payload CRC mismatch") ?? false)
        let cut = failure(Array(good.dropLast(3)))
        XCTAssertTrue(cut?.description.contains("cut short") ?? false, "\(String(describing: cut))")
        XCTAssertNil(failure(good))
    }

    func testNewFileEachTimeEvenWithinASecond() throws {
        let a = try EventWriter(logDir: dir, wallTime: 1_700_000_000)
        let b = try EventWriter(logDir: dir, wallTime: 1_700_000_000.5)
        XCTAssertNotEqual(a.path, b.path)
        XCTAssertEqual(b.path, a.path + ".1")
        XCTAssertEqual(EventReader.files(logDir: dir), [a.path, b.path])
    }
}
