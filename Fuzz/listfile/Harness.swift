// libFuzzer harness: a list file (`path label` lines) and, after a NUL byte, the classes.txt
// beside it, read as data.train_list is read (with labels required, then not).
// Property: a list is read with every label naming a class, or refused with a one-line
// DataError; never a trap.
import DataPipeline
import Foundation
import FuzzDriver

@main struct Main { static func main() { runFuzzer(fuzzOne) } }

let dir = scratchFolder("listfile")

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let parts = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
    if let list = parts.first { list.withUnsafeBytes { writeInput($0, to: dir + "/train.txt") } }
    else { writeInput(UnsafeRawBufferPointer(start: nil, count: 0), to: dir + "/train.txt") }
    if parts.count > 1 { parts[1].withUnsafeBytes { writeInput($0, to: dir + "/classes.txt") } } else { unlink(dir + "/classes.txt") }
    for requireLabels in [true, false] {
        do {
            let list = try VideoList.readListFile(dir + "/train.txt", requireLabels: requireLabels)
            precondition(list.entries.allSatisfy { $0.label >= 0 && $0.label < list.classNames.count }, "a label names no class")
        } catch let e as DataError {
            if e.message.contains("\n") { fatalError("multi-line list error: \(e.message)") }
        } catch {
            fatalError("list refused with \(type(of: error)): \(error)")
        }
    }
    return 0
}
