import Foundation

/// SIGINT / SIGTERM: the first asks the loop to finish its step, checkpoint and exit; a second
/// Ctrl-C exits at once (status 130) without touching the last checkpoint — a checkpoint being
/// written then is a temporary file, never the final name.
public enum StopSignal {
    nonisolated(unsafe) static var count: Int32 = 0
    nonisolated(unsafe) static var installed = false

    public static var requested: Bool { count > 0 }

    public static func install() {
        if installed { return }
        installed = true
        count = 0   // initialized here, never lazily inside the handler
        // The handler may interrupt anything, malloc included (a single-threaded process's malloc
        // takes no lock, so a malloc in the handler corrupts the heap: seen as "corrupted size vs.
        // prev_size" after a Ctrl-C): it touches one preinitialized Int32 and writes a StaticString,
        // whose bytes are in the binary, with write(2): nothing that allocates.
        let handler: @convention(c) (Int32) -> Void = { sig in
            StopSignal.count += 1
            if StopSignal.count >= 2 && sig == SIGINT { _exit(130) }
            let msg: StaticString = "\nvmae: stopping after this step (Ctrl-C again to quit at once)\n"
            _ = write(2, msg.utf8Start, msg.utf8CodeUnitCount)
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }
}
