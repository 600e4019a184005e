import Foundation
import TestSupport
import XCTest

@testable import DataPipeline

final class VideoListTests: TempDirTestCase {
    func assertDataError(_ contains: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("no error", file: file, line: line)
        } catch let e as DataError {
            for c in contains { XCTAssertTrue(e.message.contains(c), "'\(e.message)' lacks '\(c)'", file: file, line: line) }
        } catch {
            XCTFail("not a DataError: \(error)", file: file, line: line)
        }
    }

    func testParseLines() throws {
        let text = """
            # a comment
            a/x.mp4 3

            b/with space.avi\t0
            /abs/y.mkv 12\r
              c.webm   7
            d.mov,2
            e.mp4, 5
            """
        let e = try VideoList.parseList(text, name: "list.txt", baseDir: "/data")
        XCTAssertEqual(e, [
            VideoEntry(path: "/data/a/x.mp4", label: 3),
            VideoEntry(path: "/data/b/with space.avi", label: 0),
            VideoEntry(path: "/abs/y.mkv", label: 12),
            VideoEntry(path: "/data/c.webm", label: 7),
            VideoEntry(path: "/data/d.mov", label: 2),
            VideoEntry(path: "/data/e.mp4", label: 5),
        ])
        XCTAssertEqual(try VideoList.parseList("\u{FEFF}z.mp4 1\n", name: "l", baseDir: "r"), [VideoEntry(path: "r/z.mp4", label: 1)])
    }

    func testParseErrorsNameFileAndLine() {
        assertDataError(["l.txt:3", "'dog'"]) { _ = try VideoList.parseList("a.mp4 1\n\nb.mp4 dog\n", name: "l.txt", baseDir: ".") }
        assertDataError(["l.txt:2", "no label"]) { _ = try VideoList.parseList("# x\nb.mp4\n", name: "l.txt", baseDir: ".") }
        assertDataError(["l.txt:1", "'-1'"]) { _ = try VideoList.parseList("b.mp4 -1\n", name: "l.txt", baseDir: ".") }
        assertDataError(["l.txt:1"]) { _ = try VideoList.parseList("path,label\n", name: "l.txt", baseDir: ".") }
        // Pretraining: a path alone is fine.
        XCTAssertEqual(try VideoList.parseList("b.mp4\n", name: "l", baseDir: "/r", requireLabels: false),
                       [VideoEntry(path: "/r/b.mp4", label: 0)])
    }

    func testListFileClassNames() throws {
        try FileManager.default.createDirectory(atPath: path("lists"), withIntermediateDirectories: true)
        try "a.mp4 0\nb.mp4 2\n".write(toFile: path("lists/train.csv"), atomically: true, encoding: .utf8)
        var l = try VideoList.load(path("lists/train.csv"))
        XCTAssertEqual(l.classNames, ["class_0", "class_1", "class_2"])
        XCTAssertEqual(l.entries.map(\.path), [path("lists/a.mp4"), path("lists/b.mp4")], "relative to the list's folder")
        l = try VideoList.load(path("lists/train.csv"), root: "/videos")
        XCTAssertEqual(l.entries.map(\.path), ["/videos/a.mp4", "/videos/b.mp4"], "relative to root")

        try "cat\ndog\nbird\n\n".write(toFile: path("lists/classes.txt"), atomically: true, encoding: .utf8)
        l = try VideoList.load(path("lists/train.csv"))
        XCTAssertEqual(l.classNames, ["cat", "dog", "bird"])
        try "cat\ndog\n".write(toFile: path("lists/classes.txt"), atomically: true, encoding: .utf8)
        assertDataError(["train.csv", "label 2", "classes.txt"]) { _ = try VideoList.load(self.path("lists/train.csv")) }

        assertDataError(["nope.csv", "no such"]) { _ = try VideoList.load(self.path("nope.csv")) }
    }

    func testFolderPerClass() throws {
        let fm = FileManager.default
        for f in ["zebra/1.mp4", "zebra/sub/2.MKV", "apple/3.avi", "apple/notes.txt", "Mango/4.webm", "Mango/5.mov",
                  "empty/readme.md", ".hidden/6.mp4", "apple/.7.mp4"] {
            try fm.createDirectory(atPath: (path("ds/" + f) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            fm.createFile(atPath: path("ds/" + f), contents: Data([1]))
        }
        let l = try VideoList.load(path("ds"))
        XCTAssertEqual(l.classNames, ["Mango", "apple", "zebra"], "sorted; folders without videos are no class")
        XCTAssertEqual(l.entries, [
            VideoEntry(path: path("ds/Mango/4.webm"), label: 0),
            VideoEntry(path: path("ds/Mango/5.mov"), label: 0),
            VideoEntry(path: path("ds/apple/3.avi"), label: 1),
            VideoEntry(path: path("ds/zebra/1.mp4"), label: 2),
            VideoEntry(path: path("ds/zebra/sub/2.MKV"), label: 2),
        ])
        XCTAssertTrue(l.warnings.isEmpty)

        fm.createFile(atPath: path("ds/loose.mp4"), contents: Data([1]))
        XCTAssertEqual(try VideoList.load(path("ds")).warnings.count, 1)

        // A plain folder of clips: one class named after it.
        try fm.createDirectory(atPath: path("mine"), withIntermediateDirectories: true)
        for f in ["b.mp4", "a.avi", "c.txt"] { fm.createFile(atPath: path("mine/" + f), contents: Data([1])) }
        let m = try VideoList.load(path("mine"))
        XCTAssertEqual(m.classNames, ["mine"])
        XCTAssertEqual(m.entries.map(\.path), [path("mine/a.avi"), path("mine/b.mp4")])

        try fm.createDirectory(atPath: path("none/x"), withIntermediateDirectories: true)
        assertDataError(["none", "no video files"]) { _ = try VideoList.load(self.path("none")) }
    }
}
