import Foundation

/// A problem with data a user handed over (a list file, a folder, too many unreadable videos).
/// `description` is a one-line message naming the file (and line) at fault.
public struct DataError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One video of a list and its class index.
public struct VideoEntry: Equatable {
    public let path: String
    public let label: Int
    public init(path: String, label: Int) {
        self.path = path
        self.label = label
    }
}

/// The videos of a dataset and the names of its classes (`classNames[label]`).
///
/// Two sources:
/// - **a list file**, the original VideoMAE's: one `path label` per line, `path` relative to
///   `root` (or, when no root is given, to the list file's own folder; absolute paths stay as
///   they are). The label is the last whitespace-separated field, so paths may contain spaces;
///   `path,label` is accepted too. Blank lines and lines starting with `#` are skipped. With
///   `requireLabels: false` (pretraining) a line may hold a path alone (label 0). Class names
///   come from a `classes.txt` next to the list (one name per line, line i names class i) when
///   there is one, else `class_<i>`.
/// - **a folder** with one subfolder per class: class names are the subfolder names, sorted;
///   the videos are every file with a video extension (`VideoList.extensions`, any case) under
///   a class folder, sorted. A folder holding videos but no class folders is one class named
///   after the folder (a plain folder of someone's clips, for pretraining); videos lying next to
///   class folders are left out, with a warning.
public struct VideoList {
    public static let extensions: Set<String> = ["mp4", "avi", "mkv", "webm", "mov"]
    /// Labels are class indices below this (ImageNet-21k has 21,841 classes): a larger one is a
    /// damaged line, and without classes.txt it would make a name for every index below it.
    public static let maxClasses = 1_000_000

    public var entries: [VideoEntry]
    public var classNames: [String]
    /// The list file or folder this came from (for messages).
    public var origin: String
    /// Lines or files that were left out, for the user (e.g. videos outside class folders).
    public var warnings: [String] = []

    public init(entries: [VideoEntry], classNames: [String], origin: String) {
        self.entries = entries
        self.classNames = classNames
        self.origin = origin
    }

    /// A list file or a class-per-folder directory, whichever `path` is.
    public static func load(_ path: String, root: String? = nil, requireLabels: Bool = true) throws -> VideoList {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DataError("\(path): no such list file or folder")
        }
        if isDir.boolValue { return try scanFolder(path) }
        return try readListFile(path, root: root, requireLabels: requireLabels)
    }

    // MARK: - List files

    public static func readListFile(_ path: String, root: String? = nil, requireLabels: Bool = true) throws -> VideoList {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError("\(path): cannot read the list file")
        }
        guard let text = String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1) else {
            throw DataError("\(path): the list file is not text")
        }
        let listDir = (path as NSString).deletingLastPathComponent
        let base = root ?? (listDir.isEmpty ? "." : listDir)
        let entries = try parseList(text, name: path, baseDir: base, requireLabels: requireLabels)
        let classesPath = (listDir.isEmpty ? "." : listDir) + "/classes.txt"
        var names: [String]
        if let cdata = FileManager.default.contents(atPath: classesPath), let ctext = String(data: cdata, encoding: .utf8) {
            names = ctext.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            while names.last?.isEmpty == true { names.removeLast() }
            if let bad = entries.enumerated().first(where: { $0.element.label >= names.count }) {
                throw DataError("\(path): label \(bad.element.label) of \(bad.element.path) has no name in \(classesPath) (\(names.count) classes)")
            }
        } else {
            let top = entries.map(\.label).max() ?? 0
            names = (0...max(top, 0)).map { "class_\($0)" }
        }
        if names.isEmpty { names = ["class_0"] }
        return VideoList(entries: entries, classNames: names, origin: path)
    }

    /// Parses list-file text: `path label` lines, paths joined to `baseDir` unless absolute.
    /// A line that cannot be read throws a `DataError` naming `name` and the line number.
    public static func parseList(_ text: String, name: String, baseDir: String, requireLabels: Bool = true) throws -> [VideoEntry] {
        var out: [VideoEntry] = []
        var lineNo = 0
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNo += 1
            var line = raw.trimmingCharacters(in: .whitespaces)
            if lineNo == 1, line.hasPrefix("\u{FEFF}") { line.removeFirst() }  // a BOM
            if line.isEmpty || line.hasPrefix("#") { continue }
            let (path, label) = try parseLine(line, where: "\(name):\(lineNo)", requireLabels: requireLabels)
            let full = path.hasPrefix("/") ? path : (baseDir as NSString).appendingPathComponent(path)
            out.append(VideoEntry(path: full, label: label))
        }
        return out
    }

    static func parseLine(_ line: String, where loc: String, requireLabels: Bool) throws -> (String, Int) {
        func label(_ s: Substring) throws -> Int {
            if let v = Int(s), v >= maxClasses {
                throw DataError("\(loc): label \(v) is too large (labels are class indices below \(maxClasses))")
            }
            guard let v = Int(s), v >= 0 else {
                throw DataError("\(loc): label '\(s)' is not a non-negative integer (expected `path label`)")
            }
            return v
        }
        // `path label`: the label is the last whitespace-separated field.
        if let sep = line.lastIndex(where: { $0 == " " || $0 == "\t" }) {
            var path = line[..<sep].trimmingCharacters(in: .whitespaces)
            if path.hasSuffix(",") { path.removeLast() }  // `path, label`
            let tail = line[line.index(after: sep)...]
            guard !path.isEmpty else { throw DataError("\(loc): no path before the label in '\(line)'") }
            return (path, try label(tail))
        }
        // `path,label`
        if let comma = line.lastIndex(of: ","), let v = Int(line[line.index(after: comma)...]) {
            let path = String(line[..<comma])
            guard !path.isEmpty else { throw DataError("\(loc): no path before the label in '\(line)'") }
            guard v >= 0 else { throw DataError("\(loc): label '\(v)' is not a non-negative integer (expected `path label`)") }
            guard v < maxClasses else { throw DataError("\(loc): label \(v) is too large (labels are class indices below \(maxClasses))") }
            return (path, v)
        }
        if requireLabels {
            throw DataError("\(loc): '\(line)' has no label (expected `path label`, e.g. `videos/a.mp4 3`)")
        }
        return (line, 0)
    }

    // MARK: - Folders

    public static func isVideoFile(_ name: String) -> Bool {
        extensions.contains((name as NSString).pathExtension.lowercased())
    }

    /// Video files under `dir`, recursively, as paths relative to it, sorted; hidden entries skipped.
    static func videoFiles(under dir: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        var out: [String] = []
        while let rel = e.nextObject() as? String {
            let last = (rel as NSString).lastPathComponent
            if last.hasPrefix(".") {
                e.skipDescendants()
                continue
            }
            if isVideoFile(last) {
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: dir + "/" + rel, isDirectory: &isDir), !isDir.boolValue {
                    out.append(rel)
                }
            }
        }
        return out.sorted()
    }

    public static func scanFolder(_ dir: String) throws -> VideoList {
        let fm = FileManager.default
        guard let items = try? fm.contentsOfDirectory(atPath: dir) else {
            throw DataError("\(dir): cannot list the folder")
        }
        var classes: [(String, [String])] = []
        var loose: [String] = []
        for name in items.sorted() where !name.hasPrefix(".") {
            let p = (dir as NSString).appendingPathComponent(name)
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: p, isDirectory: &isDir) else { continue }
            if isDir.boolValue {
                let files = videoFiles(under: p)
                if !files.isEmpty { classes.append((name, files.map { (p as NSString).appendingPathComponent($0) })) }
            } else if isVideoFile(name) {
                loose.append(p)
            }
        }
        let exts = extensions.sorted().map { "." + $0 }.joined(separator: " ")
        if classes.isEmpty {
            guard !loose.isEmpty else { throw DataError("\(dir): no video files (\(exts)) in the folder or its subfolders") }
            let name = (dir as NSString).standardizingPath.split(separator: "/").last.map(String.init) ?? "videos"
            return VideoList(entries: loose.map { VideoEntry(path: $0, label: 0) }, classNames: [name], origin: dir)
        }
        var list = VideoList(entries: [], classNames: classes.map(\.0), origin: dir)
        for (i, c) in classes.enumerated() { list.entries += c.1.map { VideoEntry(path: $0, label: i) } }
        if !loose.isEmpty {
            list.warnings.append("\(dir): \(loose.count) video\(loose.count == 1 ? "" : "s") directly in the folder, not in a class subfolder: left out (e.g. \((loose[0] as NSString).lastPathComponent))")
        }
        return list
    }
}
