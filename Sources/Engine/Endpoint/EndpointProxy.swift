import CForwarder
import Foundation
import Logging
import Ports

/// A cluster's endpoint: forwards each client connection to a primary that accepts it, and to a
/// replica only when no primary does.
///
/// Primaries are taken in turn (so a plain client on a one-shard cluster always reaches the node
/// that takes its writes, never a replica answering `MOVED`); the control plane rewrites the
/// backend file on every failover, and the file is read anew for each connection, so the
/// endpoint follows the primaries without a restart.
///
/// It runs as its own process beside the nodes (`memoryplane endpoint-proxy`), so the endpoint
/// keeps answering while the control plane is down. The bytes are moved by a small C loop
/// (`CForwarder`: epoll, one recv and one send per hop, no copy or allocation per request): on
/// every request's path, it costs a pipeline-1 client far less than a general event loop would.
/// TLS passes through untouched, end to end between client and node.
public struct EndpointProxy: Sendable {
    public var port: Int
    /// A file of `host:port role` lines.
    public var backendsFile: String
    public var logger: Logger
    /// Client connections forwarded at once. Each holds two descriptors (client and node), so
    /// the cap stays under half the descriptor limit; past it a client gets Redis' own
    /// "max number of clients reached" error and is closed, and the proxy keeps serving.
    public var maxConnections: Int

    public init(port: Int, backendsFile: String, logger: Logger, maxConnections: Int = 4096) {
        self.port = port
        self.backendsFile = backendsFile
        self.logger = logger
        self.maxConnections = maxConnections
    }

    /// Serves until the process ends; throws when the port cannot be listened on.
    public func run() throws {
        logger.info("cluster endpoint listening", metadata: ["endpoint.port": "\(port)"])
        let result = mp_forward_serve(Int32(port), backendsFile, Int32(maxConnections))
        throw EndpointError.cannotListen(port: port, reason: String(cString: strerror(-result)))
    }
}

/// The endpoint could not listen on its port.
public enum EndpointError: Error, CustomStringConvertible {
    case cannotListen(port: Int, reason: String)

    public var description: String {
        switch self {
        case .cannotListen(let port, let reason): return "cannot listen on 127.0.0.1:\(port): \(reason)"
        }
    }
}
