import CSpawn
import Ports

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starting, probing and stopping OS processes that must outlive the control plane.
///
/// Processes start in their own session with their own stdio, so a control-plane crash or a
/// Ctrl-C on its terminal never reaches them. A PID is only signalled after `owns` proves the
/// process is the one we started (see `ProcessIdentity`).
public enum ProcessControl {
    /// Spawns `arguments[0]` detached (new session, signals reset, no inherited descriptors).
    public static func spawnDetached(_ arguments: [String], workingDirectory: String) throws(ProcessError) -> pid_t {
        precondition(!arguments.isEmpty)
        var fileActions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&fileActions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&fileActions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 2, "/dev/null", O_WRONLY, 0)
        cspawn_file_actions_addclosefrom(&fileActions, 3)
        cspawn_file_actions_addchdir(&fileActions, workingDirectory)

        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&defaultSignals, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK) | Int16(POSIX_SPAWN_SETSIGDEF) | cspawn_flag_setsid())

        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }

        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &fileActions, &attributes, argv, environ)
        guard result == 0 else {
            throw ProcessError("cannot start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// Whether `pid` is a live process (not a zombie). Reaps it first if it is our exited child.
    ///
    /// Throws `ProbeUnavailableError` when `/proc` cannot be read for want of descriptors: "I
    /// could not look" must never be taken for "it is dead" (that once restarted healthy nodes).
    public static func isAlive(_ pid: pid_t) throws(ProbeUnavailableError) -> Bool {
        guard pid > 0 else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return false }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try readFile("/proc/\(pid)/stat") else { return false }
        // The state follows the parenthesised command name, which may itself contain spaces.
        guard let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].trimmingPrefix(" ").first
        return state != "Z" && state != "X"
    }

    /// Proves `pid` is a process we started: its executable name and its working directory
    /// (every managed process runs in a directory of its own) both match.
    public static func owns(_ pid: pid_t, executableName: String, workingDirectory: String) throws(ProbeUnavailableError) -> Bool {
        guard try isAlive(pid) else { return false }
        guard let comm = try readFile("/proc/\(pid)/comm") else { return false }
        let name = comm.trimmingSuffixNewline()
        guard name == String(executableName.prefix(15)) else { return false }
        guard let cwd = readLink("/proc/\(pid)/cwd") else { return false }
        return cwd == workingDirectory
    }

    /// Finds a live process with this executable name running in this directory, by scanning
    /// `/proc`: the fallback when neither the recorded PID nor the pid file names it.
    public static func findProcess(executableName: String, workingDirectory: String) throws(ProbeUnavailableError) -> pid_t? {
        for pid in try processIDs() where pid != getpid() {
            if try owns(pid, executableName: executableName, workingDirectory: workingDirectory) { return pid }
        }
        return nil
    }

    /// Every PID listed in `/proc`.
    static func processIDs() throws(ProbeUnavailableError) -> [pid_t] {
        guard let proc = opendir("/proc") else { throw ProbeUnavailableError(path: "/proc", errno: errno) }
        defer { closedir(proc) }
        var pids: [pid_t] = []
        while let entry = readdir(proc) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if let pid = pid_t(name) { pids.append(pid) }
        }
        return pids
    }

    /// Sends SIGTERM, waits up to `grace` for the process to go, then SIGKILL. Call only after `owns`.
    public static func terminate(_ pid: pid_t, grace: Duration = .seconds(3)) async {
        // A process that cannot be looked at is taken as alive: waiting longer is harmless.
        func alive() -> Bool { (try? isAlive(pid)) ?? true }
        guard alive() else { return }
        kill(pid, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while clock.now < deadline {
            if !alive() { return }
            // Cancelled: the wait ends early and the caller judges the process as it is.
            try? await Task.sleep(for: .milliseconds(20))
        }
        kill(pid, SIGKILL)
        for _ in 0..<100 where alive() {
            // Cancelled: the wait ends early and the caller judges the process as it is.
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Lowers the CPU priority of `parent`'s live children (nice 10): a node's BGSAVE child then
    /// yields to the node itself and its clients. Best effort.
    public static func deprioritiseChildren(of parent: pid_t) {
        for pid in (try? processIDs()) ?? [] {
            guard let stat = try? readFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, pid_t(fields[1]) == parent {
                setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(pid), 10)
            }
        }
    }

    /// Sends SIGKILL (which also ends a stopped process) and waits up to a second for it to go.
    /// Call only after `owns`.
    public static func killNow(_ pid: pid_t) async {
        kill(pid, SIGKILL)
        for _ in 0..<200 where (try? isAlive(pid)) ?? true {
            // Cancelled: the wait ends early and the caller judges the process as it is.
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Kills a child of ours that holds nothing worth saving, and waits for it so no zombie stays.
    public static func killAndReap(_ pid: pid_t) {
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }

    /// The file's text; nil when it does not exist (the process is gone); throws when it exists
    /// but cannot be opened for want of descriptors or memory.
    static func readFile(_ path: String) throws(ProbeUnavailableError) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if ProbeUnavailableError.isExhaustion(code) { throw ProbeUnavailableError(path: path, errno: code) }
            return nil
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}


/// A process could not be started.
public struct ProcessError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension String {
    fileprivate func trimmingSuffixNewline() -> String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }
}
