#if canImport(Glibc)
import Glibc
#endif

/// A process, file or node could not be looked at because this process is out of file
/// descriptors (or memory): the answer is "unknown", never "not running".
public struct ProbeUnavailableError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let errno: Int32

    public init(path: String, errno: Int32) {
        self.path = path
        self.errno = errno
    }

    public var description: String { "cannot look at \(path): \(String(cString: strerror(errno)))" }

    /// Whether `code` says the process ran out of descriptors or memory, not that the thing is absent.
    public static func isExhaustion(_ code: Int32) -> Bool {
        code == EMFILE || code == ENFILE || code == ENOMEM || code == ENOBUFS
    }
}
