import Foundation
import TestSupport
import XCTest

@testable import VideoIO

/// Frame `i` (< 192) of the test videos: a solid red and blue encode the index (red 40 + 4·(i mod 48),
/// blue 60 + 60·(i div 48)), green is a diagonal gradient; so a decoded frame tells which frame
/// it is and whether it was resized right. With `noise`, green is noise that changes every frame
/// instead (hard to compress: a truncated file then holds some frames, not just a header).
func testFrame(_ i: Int, width w: Int, height h: Int, noise: Bool = false) -> [UInt8] {
    var f = [UInt8](repeating: 0, count: w * h * 3)
    for y in 0..<h {
        for x in 0..<w {
            let o = (y * w + x) * 3
            f[o] = UInt8(40 + 4 * (i % 48))
            if noise {
                var z = UInt64(i * 1_000_003 + y * 4099 + x) &* 0x9E37_79B9_7F4A_7C15
                z ^= z >> 29
                f[o + 1] = UInt8(90 + Int(z % 60))
            } else {
                f[o + 1] = UInt8(40 + 80 * x / max(1, w - 1) + 80 * y / max(1, h - 1))
            }
            f[o + 2] = UInt8(60 + 60 * (i / 48))
        }
    }
    return f
}

/// The frame index a decoded frame encodes (mean red and blue).
func decodedIndex(_ rgb: ArraySlice<UInt8>) -> Int {
    var r = 0, b = 0, n = 0
    var j = rgb.startIndex
    while j < rgb.endIndex {
        r += Int(rgb[j])
        b += Int(rgb[j + 2])
        n += 1
        j += 3
    }
    let lo = Int(((Double(r) / Double(n) - 40) / 4).rounded())
    let hi = Int(((Double(b) / Double(n) - 60) / 60).rounded())
    return hi * 48 + lo
}

func meanAbsError(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Double {
    precondition(a.count == b.count)
    var s = 0
    for (x, y) in zip(a, b) { s += abs(Int(x) - Int(y)) }
    return Double(s) / Double(a.count)
}

final class VideoIOTests: XCTestCase {
    var dir: URL!
    let W = 64, H = 48, N = 48

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmae-videoio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    @discardableResult
    func writeTestVideo(_ name: String, frames n: Int? = nil, fps: Double = 12, codec: VideoWriter.Codec = .auto,
                        width: Int? = nil, height: Int? = nil, noise: Bool = false) throws -> (path: String, encoder: String) {
        let p = path(name)
        let w = width ?? W, h = height ?? H
        let writer = try VideoWriter(path: p, width: w, height: h, fps: fps, codec: codec)
        for i in 0..<(n ?? N) { try writer.write(rgb: testFrame(i, width: w, height: h, noise: noise)) }
        try writer.close()
        XCTAssertEqual(writer.framesWritten, n ?? N)
        return (p, writer.encoderName)
    }

    func assertThrows(_ kinds: [VideoError.Kind], _ file: StaticString = #filePath, line: UInt = #line,
                      _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("no error thrown (expected \(kinds))", file: file, line: line)
        } catch let e as VideoError {
            XCTAssertTrue(kinds.contains(e.kind), "got \(e.kind): \(e)", file: file, line: line)
            XCTAssertTrue(e.description.contains(e.path), file: file, line: line)
        } catch {
            XCTFail("not a VideoError: \(error)", file: file, line: line)
        }
    }

    // MARK: - Round trips

    func roundTrip(_ name: String, codec: VideoWriter.Codec = .auto, expectSource: [FrameCountSource]) throws -> String {
        let (p, encoder) = try writeTestVideo(name, codec: codec)
        let r = try VideoReader(path: p)
        XCTAssertEqual(r.frameCount, N, "\(name) via \(encoder)")
        XCTAssertTrue(expectSource.contains(r.frameCountSource), "\(name): \(r.frameCountSource)")
        XCTAssertEqual(r.fps, 12, accuracy: 1e-6)
        XCTAssertEqual(r.width, W)
        XCTAssertEqual(r.height, H)
        XCTAssertEqual(r.durationSeconds, Double(N) / 12, accuracy: 0.1)
        let (count, rgb) = try r.readAll()
        XCTAssertEqual(count, N, "\(name) via \(encoder): every frame comes back (encoder flushed)")
        XCTAssertEqual(rgb.count, N * W * H * 3)
        let fs = W * H * 3
        var worst = 0.0
        for i in 0..<count {
            let got = rgb[(i * fs)..<((i + 1) * fs)]
            XCTAssertEqual(decodedIndex(got), i, "\(name) frame \(i)")
            worst = max(worst, meanAbsError(got, testFrame(i, width: W, height: H)[...]))
        }
        XCTAssertLessThan(worst, 3.0, "\(name) via \(encoder): mean abs error")
        return encoder
    }

    func testMP4RoundTrip() throws {
        let enc = try roundTrip("a.mp4", expectSource: [.container])
        XCTAssertTrue(["libx264", "mpeg4"].contains(enc))
        print("mp4 encoder: \(enc)")
    }

    func testMP4Mpeg4RoundTrip() throws {
        XCTAssertEqual(try roundTrip("b.mp4", codec: .mpeg4, expectSource: [.container]), "mpeg4")
    }

    func testAVIRoundTrip() throws {
        XCTAssertEqual(try roundTrip("c.avi", expectSource: [.container]), "mpeg4")
    }

    func testMKVRoundTrip() throws {
        _ = try roundTrip("d.mkv", expectSource: [.duration, .container])
    }

    func testWebMRoundTrip() throws {
        XCTAssertEqual(try roundTrip("w.webm", expectSource: [.duration, .container, .counted]), "libvpx")
    }

    func testMJPEGRoundTrip() throws {
        XCTAssertEqual(try roundTrip("e.avi", codec: .mjpeg, expectSource: [.container]), "mjpeg")
    }

    func testFractionalFPS() throws {
        let p = path("ntsc.mp4")
        let w = try VideoWriter(path: p, width: 32, height: 32, fps: 30000.0 / 1001.0)
        for i in 0..<10 { try w.write(rgb: testFrame(i, width: 32, height: 32)) }
        try w.close()
        let r = try VideoReader(path: p)
        XCTAssertEqual(r.fps, 29.97, accuracy: 0.01)
        XCTAssertEqual(r.frameCount, 10)
        let f = try r.frames([9, 0])
        XCTAssertEqual(decodedIndex(f[0..<(32 * 32 * 3)]), 9)
        XCTAssertEqual(decodedIndex(f[(32 * 32 * 3)...]), 0)
    }

    // MARK: - Random access

    func checkIndices(_ r: VideoReader, _ idx: [Int], width: Int? = nil, height: Int? = nil,
                      file: StaticString = #filePath, line: UInt = #line) throws {
        let f = try r.frames(idx, width: width, height: height)
        let fs = (width ?? r.width) * (height ?? r.height) * 3
        XCTAssertEqual(f.count, idx.count * fs, file: file, line: line)
        for (j, i) in idx.enumerated() {
            XCTAssertEqual(decodedIndex(f[(j * fs)..<((j + 1) * fs)]), i, "position \(j)", file: file, line: line)
        }
    }

    func testLateIndexSeeksInsteadOfDecodingAll() throws {
        for name in ["s.mp4", "s.mkv", "s.avi"] {
            let (p, _) = try writeTestVideo(name, frames: 120)
            let r = try VideoReader(path: p)
            XCTAssertEqual(r.frameCount, 120, name)
            try checkIndices(r, [110])
            XCTAssertGreaterThanOrEqual(r.stats.seeks, 1, name)
            XCTAssertLessThan(r.stats.decodedFrames, 40, "\(name): seek, not decode everything (\(r.stats))")
            // backwards, unsorted, duplicated, then the very end
            try checkIndices(r, [5, 100, 5, 7, 119, 60, 60, 0])
            try checkIndices(r, [119, 118, 117])
            XCTAssertLessThan(r.stats.decodedFrames, 240, "\(name): \(r.stats)")
        }
    }

    func testSequentialCallsDoNotSeek() throws {
        let (p, _) = try writeTestVideo("seq.mp4")
        let r = try VideoReader(path: p)
        for start in stride(from: 0, to: N, by: 8) {
            try checkIndices(r, Array(start..<(start + 8)))
        }
        XCTAssertEqual(r.stats.seeks, 0)
        XCTAssertEqual(r.stats.rewinds, 0)
        XCTAssertEqual(r.stats.decodedFrames, N)
    }

    func testResize() throws {
        let (p, _) = try writeTestVideo("r.mp4")
        let r = try VideoReader(path: p)
        let w = W / 2, h = H / 2
        let f = try r.frames([10, 40], width: w, height: h)
        XCTAssertEqual(f.count, 2 * w * h * 3)
        for (j, i) in [10, 40].enumerated() {
            let full = testFrame(i, width: W, height: H)
            var ref = [UInt8](repeating: 0, count: w * h * 3)  // 2×2 box average
            for y in 0..<h {
                for x in 0..<w {
                    for c in 0..<3 {
                        var s = 0
                        for dy in 0..<2 { for dx in 0..<2 { s += Int(full[((2 * y + dy) * W + 2 * x + dx) * 3 + c]) } }
                        ref[(y * w + x) * 3 + c] = UInt8((s + 2) / 4)
                    }
                }
            }
            let got = f[(j * w * h * 3)..<((j + 1) * w * h * 3)]
            XCTAssertEqual(decodedIndex(got), i)
            XCTAssertLessThan(meanAbsError(got, ref[...]), 4.0)
        }
        // upscale and odd sizes work too
        let big = try r.frames([3], width: 101, height: 77)
        XCTAssertEqual(big.count, 101 * 77 * 3)
        XCTAssertEqual(decodedIndex(big[...]), 3)
        assertThrows([.invalidArgument]) { _ = try r.frames([0], width: 0, height: 10) }
        assertThrows([.invalidArgument]) { _ = try r.frames([N]) }
        assertThrows([.invalidArgument]) { _ = try r.frames([-1]) }
        XCTAssertEqual(try r.frames([]), [])
    }

    func testReadAllAfterRandomAccess() throws {
        let (p, _) = try writeTestVideo("ra.mkv")
        let r = try VideoReader(path: p)
        try checkIndices(r, [40])
        let (n, rgb) = try r.readAll(width: 16, height: 12)
        XCTAssertEqual(n, N)
        XCTAssertEqual(decodedIndex(rgb[(47 * 16 * 12 * 3)...]), 47)
        try checkIndices(r, [2, 47])
        XCTAssertEqual(try r.countFrames(), N)
    }

    // MARK: - PNG

    func testPNGRoundTripExact() throws {
        var rng = SystemRandomNumberGenerator()
        for channels in [3, 4] {
            let w = 37, h = 23
            let px = (0..<(w * h * channels)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let p = path("img\(channels).png")
            try PNGImage.write(path: p, width: w, height: h, rgb: px)
            let back = try PNGImage.read(path: p, alpha: channels == 4)
            XCTAssertEqual(back.width, w)
            XCTAssertEqual(back.height, h)
            XCTAssertEqual(back.rgb, px)
        }
        let rgbOfRGBA = try PNGImage.read(path: path("img4.png"))
        XCTAssertEqual(rgbOfRGBA.rgb.count, 37 * 23 * 3)
    }

    func testPNGEncodedInMemoryIsTheFilesBytes() throws {
        var rng = SystemRandomNumberGenerator()
        let w = 29, h = 17
        let px = (0..<(w * h * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let bytes = try PNGImage.encode(width: w, height: h, rgb: px)
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let p = path("mem.png")
        XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: Data(bytes)))
        let back = try PNGImage.read(path: p)
        XCTAssertEqual([back.width, back.height], [w, h])
        XCTAssertEqual(back.rgb, px)
        assertThrows([.invalidArgument]) { _ = try PNGImage.encode(width: w, height: h, rgb: [1, 2, 3]) }
    }

    func testPNGErrors() throws {
        assertThrows([.missingFile]) { _ = try PNGImage.read(path: self.path("nope.png")) }
        _ = FileManager.default.createFile(atPath: path("empty.png"), contents: Data())
        assertThrows([.emptyFile]) { _ = try PNGImage.read(path: self.path("empty.png")) }
        try "not a png".write(toFile: path("text.png"), atomically: true, encoding: .utf8)
        assertThrows([.image]) { _ = try PNGImage.read(path: self.path("text.png")) }
        assertThrows([.invalidArgument]) { try PNGImage.write(path: self.path("x.png"), width: 2, height: 2, rgb: [1, 2, 3]) }
        assertThrows([.image]) {
            try PNGImage.write(path: self.path("no/such/dir/x.png"), width: 1, height: 1, rgb: [1, 2, 3])
        }
        // a truncated PNG
        let px = [UInt8](repeating: 7, count: 20 * 20 * 3).enumerated().map { UInt8(($0.offset * 31) & 255) }
        try PNGImage.write(path: path("t.png"), width: 20, height: 20, rgb: px)
        let data = try Data(contentsOf: URL(fileURLWithPath: path("t.png")))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path("t.png")))
        assertThrows([.image]) { _ = try PNGImage.read(path: self.path("t.png")) }
    }

    // MARK: - Errors

    func testMissingFile() {
        assertThrows([.missingFile]) { _ = try VideoReader(path: self.path("missing.mp4")) }
    }

    func testEmptyFile() {
        _ = FileManager.default.createFile(atPath: path("empty.mp4"), contents: Data())
        assertThrows([.emptyFile]) { _ = try VideoReader(path: self.path("empty.mp4")) }
    }

    func testDirectory() {
        assertThrows([.notAVideo]) { _ = try VideoReader(path: self.dir.path) }
    }

    func testTextFileRenamedMP4() throws {
        try String(repeating: "this is not a video, just some text\n", count: 50)
            .write(toFile: path("text.mp4"), atomically: true, encoding: .utf8)
        assertThrows([.notAVideo]) { _ = try VideoReader(path: self.path("text.mp4")) }
    }

    func testPNGRenamedIsNotACrash() throws {
        try PNGImage.write(path: path("p.mp4"), width: 8, height: 8, rgb: [UInt8](repeating: 9, count: 8 * 8 * 3))
        // FFmpeg reads a PNG as a one-frame video; either outcome is fine, a crash is not.
        do {
            let r = try VideoReader(path: path("p.mp4"))
            XCTAssertEqual(try r.readAll().count, 1)
        } catch is VideoError {}
    }

    func truncate(_ p: String, to fraction: Double) throws {
        let size = try FileManager.default.attributesOfItem(atPath: p)[.size] as! NSNumber
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: p))
        try h.truncate(atOffset: UInt64(Double(size.int64Value) * fraction))
        try h.close()
    }

    /// Opens and reads every frame: a VideoError or frames, never a crash or a hang.
    func readOrThrow(_ p: String) -> (frames: Int?, error: VideoError?) {
        do {
            let r = try VideoReader(path: p, deadline: 20)
            _ = try r.frames([0, r.frameCount - 1, r.frameCount / 2], width: 16, height: 16)
            let n = try r.readAll(width: 16, height: 16).count
            return (n, nil)
        } catch let e as VideoError {
            return (nil, e)
        } catch {
            XCTFail("not a VideoError: \(error)")
            return (nil, nil)
        }
    }

    func testTruncatedToAThird() throws {
        let (mp4, _) = try writeTestVideo("t.mp4", noise: true)
        try truncate(mp4, to: 1.0 / 3)
        // moov is at the end of an mp4: a third of one has no index at all.
        assertThrows([.notAVideo, .corrupt]) { _ = try VideoReader(path: mp4) }
        do {
            _ = try VideoReader(path: mp4)
        } catch let e as VideoError {
            print("truncated mp4: \(e)")
        }

        // mkv / avi keep their header in front: what is there decodes, the rest is clipped.
        for name in ["t.mkv", "t.avi"] {
            let (p, _) = try writeTestVideo(name, noise: true)
            try truncate(p, to: 1.0 / 3)
            let r = try VideoReader(path: p)
            let f = try r.frames([0, 5, N - 1])
            let fs = W * H * 3
            XCTAssertEqual(decodedIndex(f[0..<fs]), 0)
            XCTAssertEqual(decodedIndex(f[fs..<(2 * fs)]), 5)
            // past the end: the last decodable frame (which may be partly garbage: its packet is cut)
            let lastGood = decodedIndex(f[(2 * fs)...])
            XCTAssertLessThan(lastGood, N / 2, name)
            XCTAssertEqual(r.frameCountSource, .decoded)
            XCTAssertLessThan(r.frameCount, N / 2, name)
            XCTAssertGreaterThan(r.frameCount, 3, name)
            let n = try r.readAll().count
            XCTAssertEqual(n, r.frameCount, name)
            print("\(name) truncated to a third: \(n) of \(N) frames decodable")
        }
    }

    func testTruncatedAnywhereNeverCrashes() throws {
        for name in ["u.mp4", "u.mkv", "u.avi"] {
            let (p, _) = try writeTestVideo(name, frames: 24, noise: true)
            let original = try Data(contentsOf: URL(fileURLWithPath: p))
            for fraction in [0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99, 0.999] {
                try original.prefix(max(1, Int(Double(original.count) * fraction))).write(to: URL(fileURLWithPath: p))
                _ = readOrThrow(p)
            }
        }
    }

    func testOverwrittenMiddleNeverCrashes() throws {
        var rng = SystemRandomNumberGenerator()
        for name in ["o.mp4", "o.mkv", "o.avi"] {
            let (p, _) = try writeTestVideo(name, noise: true)
            let original = try Data(contentsOf: URL(fileURLWithPath: p))
            var outcomes: [String] = []
            for (start, length) in [(0.5, 64), (0.5, 4096), (0.3, 1 << 20), (0.1, 512), (0.9, 2048), (0.02, 256)] {
                var bytes = [UInt8](original)
                let s = Int(Double(bytes.count) * start)
                for j in s..<min(bytes.count, s + length) { bytes[j] = UInt8.random(in: 0...255, using: &rng) }
                try Data(bytes).write(to: URL(fileURLWithPath: p))
                let (n, e) = readOrThrow(p)
                outcomes.append(n.map { "\($0) frames" } ?? "error \(e!.kind)")
            }
            // zeros instead of noise
            var bytes = [UInt8](original)
            let s = bytes.count / 2
            for j in s..<min(bytes.count, s + 2048) { bytes[j] = 0 }
            try Data(bytes).write(to: URL(fileURLWithPath: p))
            let (n, e) = readOrThrow(p)
            outcomes.append(n.map { "\($0) frames" } ?? "error \(e!.kind)")
            print("\(name) overwritten: \(outcomes.joined(separator: ", "))")
        }
    }

    func testRandomDamageNeverCrashes() throws {
        var state: UInt64 = 0x1234_5678
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        var ok = 0, failed = 0
        for (name, codec) in [("f.mp4", VideoWriter.Codec.auto), ("f.mkv", .auto), ("f.avi", .mjpeg)] {
            let (p, _) = try writeTestVideo(name, frames: 30, codec: codec, width: 32, height: 32, noise: true)
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
            for it in 0..<30 {
                var b = original
                if it % 3 != 1 { for _ in 0..<(1 + next(48)) { b[next(b.count)] = UInt8(next(256)) } }
                if it % 3 != 0 { b = Array(b.prefix(1 + next(b.count))) }
                try Data(b).write(to: URL(fileURLWithPath: p))
                if readOrThrow(p).frames != nil { ok += 1 } else { failed += 1 }
            }
        }
        print("random damage: \(ok) read, \(failed) refused")
    }

    func testAudioOnly() throws {
        var wrote = 0
        for name in ["tone.wav", "tone.mkv"] {
            let p = path(name)
            guard writeAudioOnlyFile(path: p) else { continue }
            wrote += 1
            assertThrows([.noVideoStream]) { _ = try VideoReader(path: p) }
            do { _ = try VideoReader(path: p) } catch let e as VideoError { print("\(name): \(e)") }
        }
        if wrote == 0 { throw XCTSkip("this FFmpeg cannot write pcm_s16le") }
    }

    func testZeroFrames() throws {
        let p = path("z.mp4")
        let w = try VideoWriter(path: p, width: 16, height: 16, fps: 10)
        try w.close()
        assertThrows([.zeroFrames]) { _ = try VideoReader(path: p) }
        // FFmpeg 5.1's own demuxer cannot read the mkv its muxer writes without frames.
        let q = path("z.mkv")
        let w2 = try VideoWriter(path: q, width: 16, height: 16, fps: 10)
        try w2.close()
        assertThrows([.zeroFrames, .notAVideo, .corrupt]) { _ = try VideoReader(path: q) }
    }

    func testTimeout() throws {
        let (p, _) = try writeTestVideo("slow.mp4", frames: 96)
        assertThrows([.timeout]) { _ = try VideoReader(path: p, deadline: 1e-9) }
        let r = try VideoReader(path: p)
        r.deadline = 1e-6
        assertThrows([.timeout]) { _ = try r.readAll() }
        assertThrows([.timeout]) { _ = try r.frames([90, 3]) }
        // a generous deadline again: the reader is still usable
        r.deadline = 30
        try checkIndices(r, [90, 3, 50])
        XCTAssertEqual(try r.readAll().count, 96)
    }

    func testWriterErrors() throws {
        assertThrows([.invalidArgument]) { _ = try VideoWriter(path: self.path("odd.mp4"), width: 15, height: 16, fps: 10) }
        assertThrows([.invalidArgument]) { _ = try VideoWriter(path: self.path("fps.mp4"), width: 16, height: 16, fps: 0) }
        assertThrows([.invalidArgument]) { _ = try VideoWriter(path: self.path("x.notaformat"), width: 16, height: 16, fps: 10) }
        assertThrows([.io]) { _ = try VideoWriter(path: self.path("no/such/dir/x.mp4"), width: 16, height: 16, fps: 10) }
        let w = try VideoWriter(path: path("w.mp4"), width: 16, height: 16, fps: 10)
        assertThrows([.invalidArgument]) { try w.write(rgb: [1, 2, 3]) }
        try w.write(frames: testFrame(0, width: 16, height: 16) + testFrame(1, width: 16, height: 16), count: 2)
        try w.close()
        try w.close()  // idempotent
        assertThrows([.invalidArgument]) { try w.write(rgb: testFrame(2, width: 16, height: 16)) }
        XCTAssertEqual(try VideoReader(path: path("w.mp4")).readAll().count, 2)
    }

    func testWriterWithoutCloseStillFinishesFile() throws {
        let p = path("drop.mkv")
        do {
            let w = try VideoWriter(path: p, width: 16, height: 16, fps: 10)
            for i in 0..<5 { try w.write(rgb: testFrame(i, width: 16, height: 16)) }
        }
        XCTAssertEqual(try VideoReader(path: p).readAll().count, 5)
    }

    func testErrorDescription() {
        let e = VideoError(.corrupt, path: "/x/y.mp4", "bad")
        XCTAssertEqual(e.description, "/x/y.mp4: corrupt or truncated: bad")
    }
}
