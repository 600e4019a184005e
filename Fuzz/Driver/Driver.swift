// What every libFuzzer harness shares: the entry point and a scratch file for the input.
//
// SwiftPM links an executable with `main` aliased to the module's own entry point, so the
// harnesses cannot take libFuzzer's main(); each one's @main calls `runFuzzer`, which hands
// the command line and the per-input callback to libFuzzer's driver (LLVMFuzzerRunDriver).
import Foundation

public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: FuzzCallback) -> CInt

public func runFuzzer(_ callback: FuzzCallback) -> Never {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
}

/// A folder of this process's own under /tmp for the files the harness writes.
public func scratchFolder(_ name: String) -> String {
    let dir = "/tmp/vmae-fuzz-\(name)-\(getpid())"
    mkdir(dir, 0o700)
    return dir
}

/// Writes `bytes` to `path` (created or truncated).
public func writeInput(_ bytes: UnsafeRawBufferPointer, to path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot write \(path)")
    if bytes.count > 0 { precondition(write(fd, bytes.baseAddress, bytes.count) == bytes.count) }
    close(fd)
}
