/// Where and as whom the control plane talks to a node.
public struct NodeAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Whether the node speaks TLS: then the client verifies its certificate against the CA.
    public var tls: Bool
    /// A Unix socket to use instead of host and port (a scratch redis-server has no TCP port).
    public var unixSocket: String?

    public init(host: String = "127.0.0.1", port: Int, tls: Bool = false) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    public init(unixSocket path: String) {
        self.init(port: 0)
        unixSocket = path
    }

    public var description: String { unixSocket ?? "\(host):\(port)" }
}

/// Credentials of the internal admin user, the only user the control plane uses on a node.
public struct NodeCredentials: Sendable, Hashable {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }
}

/// A failure a session's body reports about the operation it ran (not about the connection):
/// passed through unchanged, where connection failures become `NodeUnreachableError`.
public protocol NodeOperationFailure: Error {}

/// The node did not answer in time, or could not be reached at all.
public struct NodeUnreachableError: Error, Sendable, CustomStringConvertible {
    public let address: NodeAddress
    public let reason: String
    public var description: String { "node \(address) unreachable: \(reason)" }

    public init(address: NodeAddress, reason: String) {
        self.address = address
        self.reason = reason
    }
}
