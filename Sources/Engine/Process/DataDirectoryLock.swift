import Ports

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a data directory for the life of the process holding it, so two
/// `serve` processes never run two reconcilers over the same nodes.
///
/// It is an `flock` on `<data-dir>/memoryplane.lock`: the kernel releases it when the process
/// dies, however it dies, so a crash never leaves a stale lock behind. The file also holds the
/// holder's PID, for the message a second server prints.
public final class DataDirectoryLock: Sendable {
    public let path: String
    private let descriptor: Int32

    /// Takes the lock or throws `DataDirectoryLockError` naming the lock file and its holder.
    public init(dataDirectory: String) throws(DataDirectoryLockError) {
        path = "\(dataDirectory)/memoryplane.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DataDirectoryLockError(path: path, holder: nil, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.readPID(fd)
            close(fd)
            throw DataDirectoryLockError(
                path: path, holder: holder, reason: code == EWOULDBLOCK ? nil : String(cString: strerror(code)))
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.utf8.count, 0)
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// Another process holds the data directory (or its lock file cannot be used).
public struct DataDirectoryLockError: Error, CustomStringConvertible {
    public let path: String
    public let holder: Int32?
    /// Nil when the lock is simply held by someone else.
    public let reason: String?

    public var description: String {
        if let reason { return "cannot lock the data directory with \(path): \(reason)" }
        let who = holder.map { "process \($0)" } ?? "another process"
        return "the data directory is in use: \(who) holds the lock \(path); run one memoryplane serve per data directory"
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}

extension Set where Element == Character {
    fileprivate static var whitespacesAndNewlines: Set<Character> { [" ", "\n", "\t", "\r"] }
}
