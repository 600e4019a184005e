import Foundation
import TensorCore
import TestSupport
import VideoIO
import XCTest

@testable import DataPipeline

final class VideoDatasetTests: TempDirTestCase {
    /// Output = the decoded 0...255 level (no normalization to speak of).
    let raw: (mean: [Float], std: [Float]) = ([0, 0, 0], [1 / 255.0, 1 / 255.0, 1 / 255.0])

    func dataset(_ paths: [String], labels: [Int]? = nil, frames: Int = 4, rate: Int = 4, size: Int = 16,
                 mode: ClipMode = .pretrain, rawValues: Bool = false, timeout: Double? = 10,
                 sink: Reports? = nil) throws -> VideoClipDataset {
        let entries = paths.enumerated().map { VideoEntry(path: $0.element, label: labels?[$0.offset] ?? $0.offset) }
        let list = VideoList(entries: entries, classNames: entries.map { "c\($0.label)" }, origin: "test-list")
        var o = ClipOptions(numFrames: frames, samplingRate: rate, inputSize: size, decodeTimeout: timeout)
        if rawValues {
            o.mean = raw.mean
            o.std = raw.std
        }
        let ds = try VideoClipDataset(list: list, options: o, mode: mode)
        let s = sink ?? Reports()
        ds.onSkip = { s.add($0) }
        return ds
    }

    final class Reports {
        private let lock = NSLock()
        private var items: [SkippedFile] = []
        func add(_ s: SkippedFile) { lock.lock(); items.append(s); lock.unlock() }
        var all: [SkippedFile] { lock.lock(); defer { lock.unlock() }; return items }
    }

    // MARK: - Decoding end to end

    func testEvalClipHoldsTheSampledFrames() throws {
        let p = try writeLevelVideo("levels.mp4", frames: 48)
        let ds = try dataset([p], mode: .evalCentre, rawValues: true)
        let s = try ds.sample(index: 0, epoch: 0, seed: 1)
        XCTAssertEqual(s.pixels.shape, [4, 3, 16, 16])
        XCTAssertEqual(s.label, 0)
        XCTAssertEqual(s.source, p)
        // 48 frames, span 16: centre start 16 → frames 16, 20, 24, 28.
        func levels(_ t: Tensor) -> [Int] { (0..<4).map { Int(planeMean(t, frame: $0, channel: 1).rounded()) } }
        func check(_ t: Tensor, _ frames: [Int], line: UInt = #line) {
            for (k, f) in frames.enumerated() {
                for c in 0..<3 {
                    XCTAssertEqual(planeMean(t, frame: k, channel: c), Float(level(f)), accuracy: 3,
                                   "frame \(k) (video frame \(f)) channel \(c): \(levels(t))", line: line)
                }
            }
        }
        check(s.pixels, [16, 20, 24, 28])
        // Multi-view testing: first and last segment.
        check(try ds.sample(index: 0, epoch: 0, seed: 1, mode: .eval(segment: 0, segments: 2, crop: 0, crops: 3)).pixels, [0, 4, 8, 12])
        check(try ds.sample(index: 0, epoch: 0, seed: 1, mode: .eval(segment: 1, segments: 2, crop: 2, crops: 3)).pixels, [32, 36, 40, 44])
        // Uniform sampling, centre: segments of 12, middles 6, 18, 30, 42.
        var o = ds.options
        o.sampling = .uniform
        let u = try VideoClipDataset(list: ds.list, options: o, mode: .evalCentre)
        check(try u.sample(index: 0, epoch: 0, seed: 1).pixels, [6, 18, 30, 42])
    }

    func testSyntheticClipsThroughEveryMode() throws {
        let s = try SyntheticVideos.generate(out: path("syn"), classes: 2, clipsPerClass: 2, size: 32, frames: 24, seed: 3, valPerClass: 0)
        XCTAssertEqual(s.trainClips, 4)
        let list = try VideoList.load(path("syn/train.csv"))
        XCTAssertEqual(list.classNames, Array(SyntheticVideos.classNames.prefix(2)))
        XCTAssertEqual(list.entries.map(\.label), [0, 0, 1, 1])
        let opts = ClipOptions(numFrames: 8, samplingRate: 2, inputSize: 24)
        let lo = (0..<3).map { -opts.mean[$0] / opts.std[$0] }.min()!, hi = (0..<3).map { (1 - opts.mean[$0]) / opts.std[$0] }.max()!
        for mode in [ClipMode.pretrain, .finetune, .evalCentre, .eval(segment: 1, segments: 2, crop: 2, crops: 3)] {
            let ds = try VideoClipDataset(list: list, options: opts, mode: mode)
            for i in 0..<ds.count {
                let x = try ds.sample(index: i, epoch: 1, seed: 9)
                XCTAssertEqual(x.pixels.shape, [8, 3, 24, 24])
                XCTAssertEqual(x.label, list.entries[i].label)
                XCTAssertEqual(x.source, list.entries[i].path)
                let v = x.pixels.array
                XCTAssertTrue(v.allSatisfy { $0.isFinite && $0 >= lo - 1e-3 && $0 <= hi + 1e-3 }, "\(mode)")
                let mean = v.reduce(0, +) / Float(v.count)
                let sd = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(v.count)).squareRoot()
                XCTAssertTrue(abs(mean) < 2.5 && sd > 0.1, "\(mode): mean \(mean) sd \(sd): a picture, normalized")
            }
            XCTAssertEqual(ds.skippedCount, 0)
        }
    }

    func testSamplesAreAFunctionOfSeedEpochIndex() throws {
        let p = try writeNoiseVideo("n.mp4", frames: 40, size: 48)
        for mode in [ClipMode.pretrain, .finetune] {
            let a = try dataset([p], frames: 4, rate: 2, size: 24, mode: mode)
            let b = try dataset([p], frames: 4, rate: 2, size: 24, mode: mode)
            let x = try a.sample(index: 0, epoch: 3, seed: 11).pixels
            XCTAssertTrue(sameTensor(x, try a.sample(index: 0, epoch: 3, seed: 11).pixels))
            XCTAssertTrue(sameTensor(x, try b.sample(index: 0, epoch: 3, seed: 11).pixels), "another instance, same sample")
            let others = try (4..<10).map { try a.sample(index: 0, epoch: $0, seed: 11).pixels }
            XCTAssertTrue(others.contains { !sameTensor($0, x) }, "\(mode): another epoch, another clip or crop")
            XCTAssertFalse(sameTensor(x, try a.sample(index: 0, epoch: 3, seed: 12).pixels), "\(mode): another seed")
        }
        // Evaluation has no randomness at all.
        let e = try dataset([p], mode: .evalCentre)
        XCTAssertTrue(sameTensor(try e.sample(index: 0, epoch: 0, seed: 1).pixels, try e.sample(index: 0, epoch: 5, seed: 2).pixels))
    }

    func testAFolderOfMixedContainersPretrains() throws {
        for (i, ext) in ["mp4", "avi", "mkv", "mov"].enumerated() {
            try writeLevelVideo("mine/clip\(i).\(ext)", frames: 20 + 5 * i, width: 40 + 8 * i, height: 30)
        }
        try "notes".write(toFile: path("mine/readme.txt"), atomically: true, encoding: .utf8)
        let list = try VideoList.load(path("mine"), requireLabels: false)
        XCTAssertEqual(list.entries.count, 4)
        let ds = try VideoClipDataset(list: list, options: ClipOptions(numFrames: 4, samplingRate: 4, inputSize: 16), mode: .pretrain)
        let views = ds.withMode(.eval(segment: 0, segments: 2, crop: 0, crops: 3))
        for i in 0..<4 {
            XCTAssertEqual(try ds.sample(index: i, epoch: 0, seed: 1).pixels.shape, [4, 3, 16, 16])
            XCTAssertEqual(try views.sample(index: i, epoch: 0, seed: 1).pixels.shape, [4, 3, 16, 16])
        }
        XCTAssertEqual(ds.skippedCount, 0)
    }

    // MARK: - Bad files

    /// Every kind of bad file, each with the reason it should be reported with.
    func makeBadFiles() throws -> [(path: String, reason: [String])] {
        var bad: [(String, [String])] = []
        bad.append((path("missing.mp4"), ["missing file"]))
        FileManager.default.createFile(atPath: path("empty.mp4"), contents: nil)
        bad.append((path("empty.mp4"), ["empty file"]))
        try String(repeating: "not a video\n", count: 40).write(toFile: path("text.mp4"), atomically: true, encoding: .utf8)
        bad.append((path("text.mp4"), ["not a video"]))
        let t = try writeNoiseVideo("trunc.mp4", frames: 24)
        try truncate(t, to: 1.0 / 3)
        bad.append((t, ["not a video", "corrupt"]))
        let tk = try writeNoiseVideo("trunc.mkv", frames: 24)
        try truncate(tk, to: 1.0 / 3)
        bad.append((tk, ["corrupt", "truncated"]))
        let o = try writeNoiseVideo("over.mp4", frames: 24)
        try overwriteMiddle(o, length: 8192)
        bad.append((o, ["corrupt"]))
        let z = try VideoWriter(path: path("zero.mp4"), width: 16, height: 16, fps: 10)
        try z.close()
        bad.append((path("zero.mp4"), ["no frames"]))
        if writeAudioOnlyFile(path: path("tone.mkv")) { bad.append((path("tone.mkv"), ["no video stream"])) }
        return bad
    }

    func testEveryBadFileIsSkippedReportedAndReplacedDeterministically() throws {
        let bad = try makeBadFiles()
        let good = try (0..<(bad.count + 1)).map { try writeLevelVideo("good\($0).mp4", frames: 24) }
        let paths = good + bad.map(\.path)
        let reports = Reports()
        // 8 frames 3 apart: every clip spans the whole 24-frame video, so damage anywhere shows.
        let ds = try dataset(paths, frames: 8, rate: 3, size: 16, sink: reports)
        let goodSet = Set(good)
        var first: [Int: Sample] = [:]
        for epoch in 0..<2 {
            for i in 0..<paths.count {
                let s = try ds.sample(index: i, epoch: epoch, seed: 5)
                XCTAssertEqual(s.pixels.shape, [8, 3, 16, 16])
                XCTAssertTrue(goodSet.contains(s.source), "\(paths[i]) replaced by \(s.source)")
                XCTAssertEqual(s.label, paths.firstIndex(of: s.source)!, "the replacement's own label")
                if i < good.count { XCTAssertEqual(s.source, paths[i]) }
                if epoch == 0 { first[i] = s }
            }
        }
        // Again, in another order: the same replacements, the same pixels.
        for i in (0..<paths.count).reversed() {
            let s = try ds.sample(index: i, epoch: 0, seed: 5)
            XCTAssertEqual(s.source, first[i]!.source)
            XCTAssertTrue(sameTensor(s.pixels, first[i]!.pixels))
        }
        // A fresh dataset (nothing known yet) replaces them the same way.
        let fresh = try dataset(paths, frames: 8, rate: 3, size: 16)
        for i in good.count..<paths.count {
            let s = try fresh.sample(index: i, epoch: 0, seed: 5)
            XCTAssertEqual(s.source, first[i]!.source)
            XCTAssertTrue(sameTensor(s.pixels, first[i]!.pixels))
        }
        // Reported once each, with path and reason.
        let r = reports.all
        XCTAssertEqual(r.count, bad.count, r.map(\.description).joined(separator: "\n"))
        XCTAssertEqual(Set(r.map(\.path)), Set(bad.map(\.path)))
        for (p, reasons) in bad {
            let got = r.first { $0.path == p }
            XCTAssertTrue(reasons.contains { got?.reason.contains($0) == true }, "\(p): \(got?.reason ?? "not reported"), expected \(reasons)")
        }
        XCTAssertEqual(ds.skippedCount, bad.count)
        XCTAssertEqual(ds.skippedFiles.map(\.path), bad.map(\.path))
        for s in r { print("skipped: \(s)") }
    }

    func testMoreThanHalfUnreadableIsAnError() throws {
        let good = try (0..<2).map { try writeLevelVideo("g\($0).mp4", frames: 8) }
        let bad = try (0..<3).map { i -> String in
            try "text".write(toFile: path("t\(i).mp4"), atomically: true, encoding: .utf8)
            return path("t\(i).mp4")
        }
        let ds = try dataset(good + bad)
        var error: DataError?
        do { for i in 0..<5 { _ = try ds.sample(index: i, epoch: 0, seed: 1) } } catch let e as DataError { error = e }
        XCTAssertNotNil(error)
        XCTAssertTrue(error?.message.contains("3 of 5 videos are unreadable (more than half)") == true, "\(String(describing: error))")
        XCTAssertTrue(error?.message.contains("test-list") == true)

        // Mostly missing: refused up front.
        XCTAssertThrowsError(try dataset([good[0], path("x.mp4"), path("y.mp4"), path("z.mp4")])) { e in
            XCTAssertTrue("\(e)".contains("3 of 4 videos are missing or empty"), "\(e)")
        }
        // Half is still fine.
        XCTAssertNoThrow(try dataset([good[0], path("x.mp4")]))
        XCTAssertThrowsError(try VideoClipDataset(list: VideoList(entries: [], classNames: [], origin: "e.csv"),
                                                  options: ClipOptions(), mode: .pretrain)) { e in
            XCTAssertTrue("\(e)".contains("e.csv: the list holds no videos"))
        }
    }

    func testStalledDecodingIsAbandoned() throws {
        let good = try (0..<2).map { try writeLevelVideo("g\($0).mp4", frames: 8) }
        let reports = Reports()
        let ds = try dataset(good, timeout: 1e-9, sink: reports)
        let t0 = Date()
        XCTAssertThrowsError(try ds.sample(index: 0, epoch: 0, seed: 1))
        XCTAssertLessThan(Date().timeIntervalSince(t0), 5)
        XCTAssertEqual(reports.all.count, 2)
        XCTAssertTrue(reports.all.allSatisfy { $0.reason.contains("timeout") }, "\(reports.all)")
    }

    func testManyThreadsGiveTheSameSamplesAsOne() throws {
        var paths = try (0..<6).map { try writeNoiseVideo("n\($0).mp4", frames: 20 + 8 * $0, size: 40, seed: UInt64($0)) }
        try "text".write(toFile: path("bad.mp4"), atomically: true, encoding: .utf8)
        paths.insert(path("bad.mp4"), at: 2)
        let tk = try writeNoiseVideo("trunc.mkv", frames: 40, size: 40)
        try truncate(tk, to: 0.4)
        paths.append(tk)
        for mode in [ClipMode.pretrain, .finetune] {
            let serial = try dataset(paths, frames: 4, rate: 4, size: 24, mode: mode)
            let jobs = (0..<3).flatMap { e in (0..<paths.count).map { (e, $0) } }
            let expected = try jobs.map { try serial.sample(index: $0.1, epoch: $0.0, seed: 77) }

            let parallel = try dataset(paths, frames: 4, rate: 4, size: 24, mode: mode)
            let lock = NSLock()
            var got = [Int: [Sample]]()
            var failures = 0
            let order = (0..<(jobs.count * 3)).map { ($0 * 7919) % jobs.count }  // each job 3 times, shuffled
            DispatchQueue.concurrentPerform(iterations: order.count) { k in
                let j = order[k]
                do {
                    let s = try parallel.sample(index: jobs[j].1, epoch: jobs[j].0, seed: 77)
                    lock.lock(); got[j, default: []].append(s); lock.unlock()
                } catch {
                    lock.lock(); failures += 1; lock.unlock()
                }
            }
            XCTAssertEqual(failures, 0)
            for (j, e) in expected.enumerated() {
                XCTAssertEqual(got[j]?.count, 3)
                for s in got[j] ?? [] {
                    XCTAssertEqual(s.source, e.source, "\(mode) job \(jobs[j])")
                    XCTAssertTrue(sameTensor(s.pixels, e.pixels), "\(mode) job \(jobs[j])")
                }
            }
            XCTAssertEqual(parallel.skippedCount, serial.skippedCount)
        }
    }
}
