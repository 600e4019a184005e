import Foundation

/// Something the user handed over is wrong (a config, a list file, a video, a checkpoint, an
/// argument). The commands print its one-line message on stderr and exit with status 2.
public struct UserError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
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
