// libFuzzer harness: the config path `vmae-train --config F --set k=v …` takes.
// Input: the config file's bytes, then optionally NUL-separated `--set` overrides.
// Property: a config is either accepted or refused with a one-line UserError; never a trap.
import Foundation
import FuzzDriver
import ExitStatus
import RunConfig

@main struct Main { static func main() { runFuzzer(fuzzOne) } }

let path = scratchFolder("config") + "/config.json"

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let parts = bytes.split(separator: 0, maxSplits: 8, omittingEmptySubsequences: false)
    if let first = parts.first { first.withUnsafeBytes { writeInput($0, to: path) } } else { writeInput(UnsafeRawBufferPointer(start: nil, count: 0), to: path) }
    let overrides = parts.dropFirst().map { String(decoding: $0, as: UTF8.self) }
    do {
        let cfg = try TrainConfig.load(path: path, overrides: overrides)
        _ = cfg.json()
    } catch let e as UserError {
        if e.message.contains("\n") { fatalError("multi-line config error: \(e.message)") }
    } catch {
        fatalError("config refused with a non-UserError \(type(of: error)): \(error)")
    }
    return 0
}
