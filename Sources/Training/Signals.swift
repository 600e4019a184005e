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
        let handler: @convention(c) (Int32) -> Void = { sig in
            StopSignal.count += 1
            if StopSignal.count >= 2 && sig == SIGINT { _exit(130) }
            let msg = "\nvmae: stopping after this step (Ctrl-C again to quit at once)\n"
            _ = msg.withCString { write(2, $0, strlen($0)) }
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }
}
