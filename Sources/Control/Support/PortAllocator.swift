import Model
import Ports

#if canImport(Glibc)
import Glibc
#endif

/// Chooses ports for new nodes and endpoints from the configured range.
///
/// A port is free when no record holds it and the OS lets us bind it; a node also needs its
/// bus port (port + 10000) free.
public struct PortAllocator: Sendable {
    public var range: ClosedRange<Int>
    /// Whether a loopback port can be bound now; replaced in unit tests.
    public var isBindable: @Sendable (Int) -> Bool

    public init(range: ClosedRange<Int>, isBindable: @escaping @Sendable (Int) -> Bool = PortAllocator.canBindLoopback) {
        self.range = range
        self.isBindable = isBindable
    }

    /// The lowest `count` usable ports, or a capacity fault when the range is exhausted.
    public func allocate(_ count: Int, excluding inUse: Set<Int>) throws(MemoryDBError) -> [Int] {
        var chosen: [Int] = []
        for port in range where chosen.count < count {
            let bus = port + 10000
            guard !inUse.contains(port), !inUse.contains(bus), bus <= 65535 else { continue }
            guard isBindable(port), isBindable(bus) else { continue }
            chosen.append(port)
        }
        guard chosen.count == count else {
            throw MemoryDBError(
                .insufficientClusterCapacity,
                "The port range \(range.lowerBound)-\(range.upperBound) has \(chosen.count) free ports; this cluster needs \(count). Delete clusters or widen --node-port-range."
            )
        }
        return chosen
    }

    /// Checks an explicitly requested port.
    public func check(requested port: Int, excluding inUse: Set<Int>) throws(MemoryDBError) {
        guard !inUse.contains(port), isBindable(port) else {
            throw .invalid("port \(port) is already in use on 127.0.0.1; choose another or omit port.")
        }
    }

    /// Binds and closes a TCP socket on 127.0.0.1:port with SO_REUSEADDR, as redis-server
    /// binds: connections of a stopped node lingering in TIME_WAIT do not make its port busy.
    public static func canBindLoopback(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }
}
