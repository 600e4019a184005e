import Foundation

/// Something the user handed over is wrong (a config, a list file, a video, a checkpoint, an
/// argument). The commands print its one-line message on stderr and exit with status 2.
public struct UserError: Error, CustomStringConvertible {
    public let message: String
    /// `message` is kept to one line: a newline or other control character quoted from the
    /// user's input (a key, a path) is shown escaped.
    public init(_ message: String) { self.message = oneLine(message) }
    public var description: String { message }
}

/// `s` with line breaks and other control characters escaped (`\n`, `\r`, `\t`, `\u{1b}`), so
/// that text quoted from a file a user handed over cannot break a one-line message.
public func oneLine(_ s: String) -> String {
    guard s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" }) else { return s }
    var out = ""
    for u in s.unicodeScalars {
        switch u {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where u.properties.generalCategory == .control || u == "\u{2028}" || u == "\u{2029}":
            out += "\\u{\(String(u.value, radix: 16))}"
        default: out.unicodeScalars.append(u)
        }
    }
    return out
}

/// Writes one line to stderr.
public func printErr(_ s: String) {
    FileHandle.standardError.write((s + "\n").data(using: .utf8)!)
}

/// Exits with a given status after the message was printed.
public struct ExitCodeError: Error {
    public let code: Int32
    public init(code: Int32) { self.code = code }
}
