import ArgumentParser
import Foundation

/// Runs a command-line root with the design's exit statuses: 0 success, 2 bad usage or bad
/// input (one line on stderr), 1 anything else. No stack traces for what a user typed.
public func runCommandLine<C: ParsableCommand>(_ root: C.Type, arguments: [String]? = nil) -> Never {
    setvbuf(stdout, nil, _IOLBF, 0)
    do {
        var command = try root.parseAsRoot(arguments)
        try command.run()
        exit(0)
    } catch let e as UserError {
        printErr("error: \(e.message)")
        exit(2)
    } catch let e as ExitCodeError {
        exit(e.code)
    } catch let e as ExitCode {
        exit(e.rawValue)
    } catch {
        let code = root.exitCode(for: error)
        if code == .success {
            print(root.fullMessage(for: error))
            exit(0)
        }
        let message = root.message(for: error)
        if code == .validationFailure {
            // a usage error: the message plus a pointer to --help, on stderr
            printErr("error: \(message.split(separator: "\n").first.map(String.init) ?? message)")
            printErr(root.usageString(for: error))
            exit(2)
        }
        printErr("error: \(message)")
        exit(1)
    }
}

extension ParsableCommand {
    static func usageString(for error: Error) -> String {
        "usage: " + (helpMessage().split(separator: "\n").first(where: { $0.hasPrefix("USAGE:") }).map {
            String($0.dropFirst(6)).trimmingCharacters(in: .whitespaces)
        } ?? "see --help")
    }
}
