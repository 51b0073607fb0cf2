import Foundation
import Logging
import Model
import NIOCore
import NIOPosix
import Synchronization

/// A cluster's endpoint: forwards each client connection to a primary that accepts it, and to a
/// replica only when no primary does.
///
/// Primaries are taken in turn (so a plain client on a one-shard cluster always reaches the node
/// that takes its writes, never a replica answering `MOVED`); the control plane rewrites the
/// backend file on every failover, so the endpoint follows the primaries.
///
/// It runs as its own process beside the nodes (`memoryplane endpoint-proxy`), so the endpoint
/// keeps answering while the control plane is down. Cluster-aware clients only bootstrap through
/// it (CLUSTER SLOTS / SHARDS) and then talk to nodes directly, following MOVED replies.
public struct EndpointProxy: Sendable {
    public var port: Int
    /// A file of `host:port` lines, read anew for each connection so membership changes apply
    /// without a restart.
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

    /// Serves until the process ends.
    public func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let backendsFile = backendsFile
        let logger = logger
        let rotation = RotationCounter()
        let open = OpenConnections(limit: maxConnections)
        // The backend is connected and glued inside the initializer: NIO registers the client
        // channel (and starts reading it) only once that future succeeds, so no byte can arrive
        // before there is somewhere to send it.
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { client in
                guard open.acquire() else {
                    return Self.refuse(client, logger: logger, limit: open.limit)
                }
                client.closeFuture.whenComplete { _ in open.release() }
                return Self.connect(on: client.eventLoop, to: Self.readBackends(backendsFile), start: rotation.next(), logger: logger)
                    .flatMapThrowing { backend in
                        // Both channels live on this event loop, so the handlers go in synchronously.
                        let (clientSide, backendSide) = GlueHandler.matchedPair()
                        do {
                            try client.pipeline.syncOperations.addHandler(clientSide)
                            try backend.pipeline.syncOperations.addHandler(backendSide)
                        } catch {
                            backend.close(promise: nil)
                            throw error
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: port).get()
        logger.info("cluster endpoint listening", metadata: ["endpoint.port": "\(port)"])
        try await server.closeFuture.get()
    }

    /// Answers a client past the cap as Redis does at `maxclients`, then closes it.
    static func refuse(_ client: any Channel, logger: Logger, limit: Int) -> EventLoopFuture<Void> {
        logger.warning("endpoint connection limit reached; refusing a client", metadata: ["endpoint.max_connections": "\(limit)"])
        let reply = client.allocator.buffer(string: "-ERR max number of clients reached\r\n")
        return client.writeAndFlush(reply).flatMap { client.close() }.flatMapError { _ in client.eventLoop.makeSucceededVoidFuture() }
            .flatMapThrowing { throw EndpointError.tooManyConnections }
    }

    /// Backends as the file lists them: primaries, then replicas.
    static func readBackends(_ path: String) -> (primaries: [(String, Int)], replicas: [(String, Int)]) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return ([], []) }
        let all = EndpointBackend.parseFile(text)
        return (all.filter { $0.role == .primary }.map { ($0.host, $0.port) }, all.filter { $0.role == .replica }.map { ($0.host, $0.port) })
    }

    /// Connects to the first primary that accepts, trying them in turn from a rotating position,
    /// then to the replicas in the same way.
    static func connect(
        on eventLoop: any EventLoop, to backends: (primaries: [(String, Int)], replicas: [(String, Int)]), start: Int, logger: Logger
    ) -> EventLoopFuture<any Channel> {
        func rotated(_ list: [(String, Int)]) -> [(String, Int)] {
            list.isEmpty ? [] : (0..<list.count).map { list[(start + $0) % list.count] }
        }
        let ordered = rotated(backends.primaries) + rotated(backends.replicas)
        guard !ordered.isEmpty else { return eventLoop.makeFailedFuture(EndpointError.noBackends) }
        return attempt(on: eventLoop, ordered[...], logger: logger)
    }

    private static func attempt(on eventLoop: any EventLoop, _ remaining: ArraySlice<(String, Int)>, logger: Logger) -> EventLoopFuture<any Channel> {
        guard let (host, port) = remaining.first else {
            logger.warning("no node of the cluster accepted a connection")
            return eventLoop.makeFailedFuture(EndpointError.noBackends)
        }
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(.milliseconds(300))
            .connect(host: host, port: port)
            .flatMapError { _ in attempt(on: eventLoop, remaining.dropFirst(), logger: logger) }
    }
}

/// No node of the cluster accepted the connection.
enum EndpointError: Error {
    case noBackends
    case tooManyConnections
}

/// Spreads connections over backends.
final class RotationCounter: Sendable {
    private let value = Atomic<Int>(0)

    func next() -> Int {
        value.wrappingAdd(1, ordering: .relaxed).newValue
    }
}

/// Counts forwarded connections against the cap.
final class OpenConnections: Sendable {
    let limit: Int
    private let count = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    func acquire() -> Bool {
        if count.add(1, ordering: .relaxed).newValue <= limit { return true }
        count.subtract(1, ordering: .relaxed)
        return false
    }

    func release() { count.subtract(1, ordering: .relaxed) }
}
