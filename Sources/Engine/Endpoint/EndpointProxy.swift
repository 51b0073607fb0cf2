import Foundation
import Logging
import NIOCore
import NIOPosix

/// A cluster's endpoint: forwards each client connection to the first node that accepts it.
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

    public init(port: Int, backendsFile: String, logger: Logger) {
        self.port = port
        self.backendsFile = backendsFile
        self.logger = logger
    }

    /// Serves until the process ends.
    public func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let backendsFile = backendsFile
        let logger = logger
        let rotation = RotationCounter()
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { client in
                Self.connect(client, backends: Self.readBackends(backendsFile), start: rotation.next(), logger: logger)
                return client.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: port).get()
        logger.info("cluster endpoint listening", metadata: ["endpoint.port": "\(port)"])
        try await server.closeFuture.get()
    }

    static func readBackends(_ path: String) -> [(String, Int)] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let colon = line.lastIndex(of: ":"), let port = Int(line[line.index(after: colon)...]) else { return nil }
            return (String(line[..<colon]), port)
        }
    }

    /// Tries the backends in turn, starting at a rotating position, and glues the first that connects.
    static func connect(_ client: any Channel, backends: [(String, Int)], start: Int, logger: Logger) {
        guard !backends.isEmpty else {
            client.close(promise: nil)
            return
        }
        let ordered = (0..<backends.count).map { backends[(start + $0) % backends.count] }
        attempt(client, ordered[...], logger: logger)
    }

    private static func attempt(_ client: any Channel, _ remaining: ArraySlice<(String, Int)>, logger: Logger) {
        guard let (host, port) = remaining.first else {
            logger.warning("no node of the cluster accepted a connection")
            client.close(promise: nil)
            return
        }
        ClientBootstrap(group: client.eventLoop)
            .connectTimeout(.milliseconds(300))
            .connect(host: host, port: port)
            .whenComplete { result in
                switch result {
                case .success(let backend):
                    let (clientSide, backendSide) = GlueHandler.matchedPair()
                    client.pipeline.addHandler(clientSide).and(backend.pipeline.addHandler(backendSide)).whenComplete { added in
                        switch added {
                        case .success:
                            client.setOption(.autoRead, value: true).whenComplete { _ in client.read() }
                        case .failure:
                            client.close(promise: nil)
                            backend.close(promise: nil)
                        }
                    }
                case .failure:
                    attempt(client, remaining.dropFirst(), logger: logger)
                }
            }
    }
}

/// Spreads connections over backends without shared mutable state races.
final class RotationCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value &+= 1
        return value
    }
}
