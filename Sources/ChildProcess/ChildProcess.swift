// Running a copy of this executable (or another program) as a child with a deadline: the
// machinery behind reading untrusted files in a separate process (HDF5's `HDF5Isolation`).
//
// posix_spawn, not fork: a Swift process has Dispatch and runtime threads and locks held by
// them, and a forked copy of only the calling thread may deadlock on any of those. The child is
// a fresh exec of /proc/self/exe (the same binary), so it starts from a clean state.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a child ended.
public enum ChildEnd: Equatable, Sendable, CustomStringConvertible {
    /// It exited with this status.
    case exited(Int32)
    /// It was ended by this signal (a crash: SIGSEGV, SIGABRT, SIGILL, SIGBUS, or a kill).
    case signaled(Int32)
    /// It gave no answer within the deadline (seconds) and was killed.
    case timedOut(Double)
    /// It could not be started (errno of posix_spawn).
    case notStarted(Int32)

    public var description: String {
        switch self {
        case .exited(let s): return "exited with status \(s)"
        case .signaled(let s): return "killed by signal \(s) (\(signalName(s)))"
        case .timedOut(let t): return "no answer in \(formatSeconds(t)) s"
        case .notStarted(let e): return "could not be started (\(String(cString: strerror(e))))"
        }
    }
}

func formatSeconds(_ t: Double) -> String { t == t.rounded() ? "\(Int(t))" : "\(t)" }

/// SIGSEGV, SIGABRT, … for a signal number ("signal N" for others).
public func signalName(_ s: Int32) -> String {
    let names: [Int32: String] = [SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGILL: "SIGILL",
                                  SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGTRAP: "SIGTRAP",
                                  SIGINT: "SIGINT", SIGALRM: "SIGALRM", SIGXCPU: "SIGXCPU"]
    return names[s] ?? "signal \(s)"
}

public enum ChildProcess {
    /// The running executable, as the kernel sees it (a fresh exec of it is a copy of this program).
    public static let selfExecutable = "/proc/self/exe"

    /// Runs `executable` with `arguments` (argv[1…]) and waits for it at most `timeout` seconds;
    /// a child still running then is killed (SIGKILL) and reaped. The child gets /dev/null as
    /// stdin, stdout and stderr (nothing it prints reaches the user), its own process group (a
    /// Ctrl-C at the terminal or a signal to this process's group is not taken for its crash),
    /// default signal handling and an empty signal mask. Environment: this process's, plus `environment`.
    public static func run(_ executable: String = selfExecutable, arguments: [String], timeout: Double,
                           environment: [String: String] = [:]) -> ChildEnd {
        run(executable, arguments: arguments, timeout: timeout, environment: environment, capture: false).end
    }

    /// `run`, with the child's stdout handed back (its first 64 KB; a pipe, so the child should
    /// write little: a one-line answer).
    public static func runCapturing(_ executable: String = selfExecutable, arguments: [String], timeout: Double,
                                    environment: [String: String] = [:]) -> (end: ChildEnd, output: String) {
        run(executable, arguments: arguments, timeout: timeout, environment: environment, capture: true)
    }

    static func run(_ executable: String, arguments: [String], timeout: Double, environment: [String: String],
                    capture: Bool) -> (end: ChildEnd, output: String) {
        var pipeFDs: [Int32] = [-1, -1]
        if capture {
            guard pipe(&pipeFDs) == 0 else { return (.notStarted(errno), "") }
            // the parent's ends must not leak into other children
            _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)
        }
        defer { for fd in pipeFDs where fd >= 0 { close(fd) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] {
            if fd == 1 && capture {
                posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
            } else {
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
            }
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        // `environment` first: getenv answers with the first of two equal names
        var envLines = environment.map { "\($0.key)=\($0.value)" }
        var e = environ
        while let p = e.pointee { envLines.append(String(cString: p)); e += 1 }
        let argv0 = executable == selfExecutable ? (CommandLine.arguments.first ?? executable) : executable
        var cargs: [UnsafeMutablePointer<CChar>?] = ([argv0] + arguments).map { strdup($0) } + [nil]
        var cenv: [UnsafeMutablePointer<CChar>?] = envLines.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) }; for p in cenv { free(p) } }

        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attr, &cargs, &cenv)
        guard rc == 0 else { return (.notStarted(rc), "") }
        if capture { close(pipeFDs[1]); pipeFDs[1] = -1 }
        let end = wait(pid, timeout: timeout)
        guard capture else { return (end, "") }
        // the child is gone, so its end of the pipe is closed: read to EOF, without blocking
        // on a grandchild that might hold a copy
        _ = fcntl(pipeFDs[0], F_SETFL, O_NONBLOCK)
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65536 {
            let n = read(pipeFDs[0], &buf, buf.count)
            if n <= 0 { break }
            bytes += buf[0..<n]
        }
        return (end, String(decoding: bytes, as: UTF8.self))
    }

    /// Waits for `pid` up to `timeout` seconds (polling: 1 ms at first, then up to 20 ms apart);
    /// kills and reaps it after that.
    static func wait(_ pid: pid_t, timeout: Double) -> ChildEnd {
        let start = now()
        var pause: Double = 0.001
        while true {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return end(of: status) }
            if r < 0 && errno != EINTR { return .exited(-1) }
            if now() - start >= timeout {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                return .timedOut(timeout)
            }
            usleep(useconds_t(pause * 1e6))
            pause = min(pause * 2, 0.02)
        }
    }

    static func end(of status: Int32) -> ChildEnd {
        // WIFEXITED / WTERMSIG are macros Swift does not import
        let sig = status & 0x7f
        return sig == 0 ? .exited((status >> 8) & 0xff) : .signaled(sig)
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// The child's side, called first thing in it: SIGALRM ends it after `seconds` if nothing
    /// else has (the parent's deadline is the real one; this keeps a child whose parent was
    /// killed meanwhile from hanging on forever). Returns false when the parent is already gone.
    @discardableResult
    public static func becomeChild(of parent: pid_t, seconds: Double) -> Bool {
        signal(SIGALRM, SIG_DFL)
        alarm(UInt32(max(1, seconds.rounded(.up))))
        return getppid() == parent
    }
}
