// libFuzzer harness: an HDF5 checkpoint from anywhere (the bytes go to a file, opened as
// `--resume` and `vmae inspect` open one: Checkpoint.read, tensors included, through
// HDF5Isolation's child process as in vmae and vmae-train, with a 3 s deadline).
// Properties: every HDF5 object opened is closed again; a bad file is a one-line CheckpointError
// (a file that crashes or hangs libhdf5 in the child included); never a trap, never a hang.
import Checkpoint
import Foundation
import FuzzDriver
import HDF5

@main struct Main {
    static func main() {
        // VMAE_FUZZ_IN_PROCESS=1: no child, libhdf5 in this process (to hunt its own failures)
        if getenv("VMAE_FUZZ_IN_PROCESS") == nil { HDF5Isolation.serveOrEnable(readers: [Checkpoint.isolatedReader], timeout: 3) }
        runFuzzer(fuzzOne)
    }
}

let path = scratchFolder("checkpoint") + "/checkpoint-00000001.h5"

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    writeInput(UnsafeRawBufferPointer(start: data, count: size), to: path)
    do {
        let ck = try Checkpoint.read(path)
        _ = ck.model.count
    } catch let e as CheckpointError {
        if e.description.contains("\n") { fatalError("multi-line checkpoint error: \(e)") }
    } catch {
        fatalError("checkpoint refused with \(type(of: error)): \(error)")
    }
    precondition(H5File.openObjects == 0, "\(H5File.openObjects) HDF5 objects left open")
    return 0
}
