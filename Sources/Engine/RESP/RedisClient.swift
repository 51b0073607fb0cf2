import NIOCore
import NIOPosix
import NIOSSL
import Ports

/// Sends pipelined commands to one Redis node over a short-lived connection.
///
/// Control traffic is rare and small, so a connection per exchange keeps the client stateless:
/// no pool to invalidate when a node restarts, and nothing to leak.
public struct RedisClient: Sendable {
    public var timeout: Duration
    private let group: any EventLoopGroup
    /// Trusts the data directory's CA; required to talk to TLS nodes.
    public var tlsContext: NIOSSLContext?

    public init(timeout: Duration = .milliseconds(1500), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, tlsContext: NIOSSLContext? = nil) {
        self.timeout = timeout
        self.group = group
        self.tlsContext = tlsContext
    }

    /// Runs `commands` in one pipeline after authenticating, and returns one reply per command
    /// (errors included as `.error` values; the AUTH reply is checked and not returned).
    public func send(
        _ commands: [[String]], to address: NodeAddress, as credentials: NodeCredentials?
    ) async throws -> [RESPValue] {
        try await send(bytes: commands.map { $0.map { Array($0.utf8) } }, to: address, as: credentials)
    }

    /// `send` with arguments as bytes: for key names, which Redis does not require to be UTF-8.
    public func send(
        bytes commands: [[[UInt8]]], to address: NodeAddress, as credentials: NodeCredentials?
    ) async throws -> [RESPValue] {
        let pipeline = (credentials.map { [[Array("AUTH".utf8), Array($0.user.utf8), Array($0.password.utf8)]] } ?? []) + commands
        let replies = try await withDeadline(address: address) {
            try await self.exchange(pipeline, with: address)
        }
        if let credentials {
            if case .error(let message) = replies[0] {
                throw RedisReplyError("AUTH as \(credentials.user) failed: \(message)")
            }
            return Array(replies.dropFirst())
        }
        return replies
    }

    /// Sends one command and returns its reply, throwing the node's error.
    public func command(_ command: String..., to address: NodeAddress, as credentials: NodeCredentials?) async throws -> RESPValue {
        try await send([command], to: address, as: credentials)[0].orThrow()
    }

    private func exchange(_ commands: [[[UInt8]]], with address: NodeAddress) async throws -> [RESPValue] {
        try await connect(to: address).executeThenClose { inbound, outbound in
            let session = RedisSession(address: address, inbound: inbound, outbound: outbound)
            return try await session.send(bytes: commands)
        }
    }

    /// Runs `body` with one connection kept open for all its exchanges, after authenticating;
    /// for work of many pipelines in a row (a resharding), where a connection (and, with TLS,
    /// a handshake) per pipeline would cost more than the work. The client's timeout bounds
    /// the whole session.
    public func withSession<T: Sendable>(
        to address: NodeAddress, as credentials: NodeCredentials?, _ body: @escaping @Sendable (RedisSession) async throws -> T
    ) async throws -> T {
        try await withDeadline(address: address) {
            try await self.connect(to: address).executeThenClose { inbound, outbound in
                let session = RedisSession(address: address, inbound: inbound, outbound: outbound)
                if let credentials {
                    let reply = try await session.send(bytes: [[Array("AUTH".utf8), Array(credentials.user.utf8), Array(credentials.password.utf8)]])[0]
                    if case .error(let message) = reply { throw RedisReplyError("AUTH as \(credentials.user) failed: \(message)") }
                }
                return try await body(session)
            }
        }
    }

    private func connect(to address: NodeAddress) async throws -> NIOAsyncChannel<RESPValue, [[UInt8]]> {
        let tls: NIOSSLContext?
        if address.tls {
            guard let tlsContext else { throw NodeUnreachableError(address: address, reason: "TLS node but no CA to verify it with") }
            tls = tlsContext
        } else {
            tls = nil
        }
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)))
        let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<RESPValue, [[UInt8]]>> = { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        // No host name: the node's certificate is checked against the IP we dialled.
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPValueDecoder()))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(RESPCommandEncoder()))
                    return try NIOAsyncChannel<RESPValue, [[UInt8]]>(wrappingChannelSynchronously: channel)
                }
            }
        if let path = address.unixSocket {
            return try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
        }
        return try await bootstrap.connect(host: address.host, port: address.port, channelInitializer: initializer)
    }

    /// The errno of a connection attempt that failed for want of local descriptors or memory.
    static func exhaustionErrno(_ error: any Error) -> Int32? {
        if let error = error as? IOError, ProbeUnavailableError.isExhaustion(error.errnoCode) { return error.errnoCode }
        if let error = error as? NIOConnectionError {
            for attempt in error.connectionErrors {
                if let code = exhaustionErrno(attempt.error) { return code }
            }
        }
        return nil
    }

    /// Runs `body`, giving up after the client's timeout; cancelling the exchange closes its channel.
    private func withDeadline<T: Sendable>(address: NodeAddress, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            do {
                guard let first = try await group.next(), let value = first else {
                    throw NodeUnreachableError(address: address, reason: "no reply within \(timeout)")
                }
                return value
            } catch let error as NodeUnreachableError {
                throw error
            } catch let error as RedisReplyError {
                throw error
            } catch let error as any NodeOperationFailure {
                throw error
            } catch {
                // Out of descriptors here says nothing about the node: report "could not look".
                if let code = Self.exhaustionErrno(error) {
                    throw ProbeUnavailableError(path: "connection to \(address)", errno: code)
                }
                throw NodeUnreachableError(address: address, reason: "\(error)")
            }
        }
    }
}

/// One open connection to a node, for several pipelines in a row (`RedisClient.withSession`).
///
/// Unchecked Sendable: a session is handed to nested `withSession` bodies, which run in the one
/// task that opened it; it is never used by two tasks at once (its pipelines are sequential).
public final class RedisSession: @unchecked Sendable {
    let address: NodeAddress
    var iterator: NIOAsyncChannelInboundStream<RESPValue>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<[[UInt8]]>

    init(address: NodeAddress, inbound: NIOAsyncChannelInboundStream<RESPValue>, outbound: NIOAsyncChannelOutboundWriter<[[UInt8]]>) {
        self.address = address
        self.iterator = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    /// Sends the commands in one pipeline and returns one reply per command (errors as values).
    public func send(bytes commands: [[[UInt8]]]) async throws -> [RESPValue] {
        try await outbound.write(contentsOf: commands)
        var replies: [RESPValue] = []
        replies.reserveCapacity(commands.count)
        while replies.count < commands.count {
            guard let reply = try await iterator.next() else {
                throw NodeUnreachableError(address: address, reason: "connection closed after \(replies.count) of \(commands.count) replies")
            }
            replies.append(reply)
        }
        return replies
    }

    public func send(_ commands: [[String]]) async throws -> [RESPValue] {
        try await send(bytes: commands.map { $0.map { Array($0.utf8) } })
    }

    /// `send`, given up after `limit` with `NodeUnreachableError`: for one exchange of a long
    /// session, so a node that stops answering (a SIGSTOP) fails the step in seconds rather
    /// than holding it for the whole session's deadline. The session is unusable afterwards.
    public func send(_ commands: [[String]], within limit: Duration) async throws -> [RESPValue] {
        let address = address
        return try await withThrowingTaskGroup(of: [RESPValue]?.self) { group in
            group.addTask { try await self.send(commands) }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let replies = first else {
                throw NodeUnreachableError(address: address, reason: "no reply within \(limit)")
            }
            return replies
        }
    }
}
