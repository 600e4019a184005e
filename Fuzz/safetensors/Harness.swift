// libFuzzer harness: the safetensors reader as `vmae import` uses it (the bytes go to a file,
// which SafetensorsFile memory-maps). Every tensor it accepts is read in full.
// Properties: a bad file is a one-line SafetensorsError; every accepted tensor lies inside the
// data section, its size agrees with its shape and no two overlap (so no read leaves the
// mapping); never a trap.
import Foundation
import FuzzDriver
import Interop

@main struct Main { static func main() { runFuzzer(fuzzOne) } }

let path = scratchFolder("safetensors") + "/model.safetensors"

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    writeInput(UnsafeRawBufferPointer(start: data, count: size), to: path)
    do {
        let f = try SafetensorsFile(path: path)
        var headerLength = 0
        for i in 0..<8 { headerLength |= Int(data![i]) << (8 * i) }
        let dataLength = size - 8 - headerLength
        var lastEnd = 0
        for e in f.entries {
            precondition(e.begin >= lastEnd && e.begin <= e.end && e.end <= dataLength,
                         "tensor \(e.name) [\(e.begin), \(e.end)) escapes the data (\(dataLength) bytes) or overlaps")
            precondition(e.end - e.begin == e.count * SafetensorsFile.elementSize[e.dtype]!, "tensor \(e.name): size disagrees with its shape")
            lastEnd = e.end
            if SafetensorsFile.convertible.contains(e.dtype) {
                let t = try f.tensor(e.name)
                precondition(t.count == e.count)
            }
        }
    } catch let e as SafetensorsError {
        if e.description.contains("\n") { fatalError("multi-line safetensors error: \(e)") }
    } catch {
        fatalError("safetensors refused with \(type(of: error)): \(error)")
    }
    return 0
}
