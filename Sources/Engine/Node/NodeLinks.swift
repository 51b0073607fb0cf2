import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import Ports


/// A node the links keep a connection to: where it listens, and who the control plane is there.
public struct LinkTarget: Sendable, Equatable {
    public var address: NodeAddress
    /// Sent once per connection (`AUTH`); nil for a node that needs none.
    public var credentials: NodeCredentials?
    /// Probed every tick: a primary, whose hang stops its shard's writes until a failover. Other
    /// nodes (replicas, endpoints) are probed every `NodeLinks.relaxedProbeTicks` ticks: a hung
    /// replica blocks no write, and a dead one (or endpoint) closes its connection at once anyway.
    public var urgent: Bool

    public init(address: NodeAddress, credentials: NodeCredentials?, urgent: Bool = true) {
        self.address = address
        self.credentials = credentials
        self.urgent = urgent
    }

    /// Whether a connection made for `other` serves this target too.
    func sameConnection(as other: LinkTarget) -> Bool {
        address == other.address && credentials == other.credentials
    }
}

/// One connection kept open per watched node, authenticated once (one TLS handshake for a TLS
/// node), carrying both the liveness probe and the control plane's routine commands.
///
/// - **Probe.** A `PING` every `probeInterval` (200 ms) to primaries, every
///   `relaxedProbeTicks` intervals (2 s) to replicas and endpoints: a hung node is told from a slow
///   one within `silenceThreshold` of its probe, and a connection that closes says the process
///   ended at once. Any reply counts, even an error. `onChange` is called (off the lock) when a
///   node starts or stops answering. The probes are what idle supervision costs (a loopback
///   write and read each), so they go where a hang costs writes.
/// - **Routine commands.** Observations and metrics samples go over the same connection
///   (`send`), pipelined behind the probe and matched to their replies in order, so supervising a
///   node costs no new connection, no handshake and no socket left in TIME_WAIT. Work that holds
///   a connection for long or changes its state (failover fencing, slot moves) opens its own.
/// - **Reconnection.** After a close, a node is reconnected with backoff (100 ms doubling to 2 s),
///   and at most `connectsPerTick` connections are opened per probe tick, so a control-plane
///   restart with hundreds of nodes ramps up instead of storming them.
///
/// Everything runs on one event loop; the lock guards what other threads read.
public final class NodeLinks: Sendable {
    public let probeInterval: TimeAmount
    /// A node is reported `silent` through `onChange` once its probe has waited this long.
    public let silenceThreshold: TimeAmount
    public let connectsPerTick: Int
    /// Replicas and endpoints are probed once per this many ticks.
    public let relaxedProbeTicks: Int
    private let eventLoop: any EventLoop
    private let tlsContext: @Sendable () throws -> NIOSSLContext
    private let state = Mutex(State())

    /// A thread of its own for the links: the probe ticks and replies never wait behind API
    /// requests on the shared event loops, nor delay them.
    public static let ownLoop: any EventLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()

    private struct Link {
        var cluster: String
        var target: LinkTarget
        var channel: (any Channel)?
        /// The connection's AUTH was accepted: routine commands may use it.
        var authenticated = false
        var connecting = false
        var nextConnect = NIODeadline.uptimeNanoseconds(0)
        var failures = 0
        var probeSentAt: NIODeadline?
        var reported = NodeLiveness.unknown
        var generation: Int
    }

    private struct State {
        var nodes: [String: Link] = [:]
        var listeners: [String: @Sendable () -> Void] = [:]
        var ticker: RepeatedTask?
        var generation = 0
        var ticks = 0
    }

    public init(
        probeInterval: TimeAmount = .milliseconds(200), silenceThreshold: TimeAmount = .milliseconds(500), connectsPerTick: Int = 64,
        relaxedProbeTicks: Int = 10, eventLoop: any EventLoop = NodeLinks.ownLoop,
        tlsContext: @escaping @Sendable () throws -> NIOSSLContext
    ) {
        self.probeInterval = probeInterval
        self.silenceThreshold = silenceThreshold
        self.connectsPerTick = connectsPerTick
        self.relaxedProbeTicks = max(1, relaxedProbeTicks)
        self.eventLoop = eventLoop
        self.tlsContext = tlsContext
    }

    /// Keeps links to exactly `nodes` (by name) for `cluster` from now on; `onChange` hears of
    /// changes. A node whose address or credentials changed gets a new connection.
    public func watch(cluster: String, nodes: [String: LinkTarget], onChange: @escaping @Sendable () -> Void) {
        let closing: [any Channel] = state.withLock { state in
            state.listeners[cluster] = onChange
            var closing: [any Channel] = []
            for (name, link) in state.nodes where link.cluster == cluster {
                guard let target = nodes[name], target.sameConnection(as: link.target) else {
                    if let channel = link.channel { closing.append(channel) }
                    state.nodes[name] = nil
                    continue
                }
                // A failover changes who is urgent, not the connection.
                state.nodes[name]?.target.urgent = target.urgent
            }
            for (name, target) in nodes where state.nodes[name] == nil {
                state.generation += 1
                state.nodes[name] = Link(cluster: cluster, target: target, generation: state.generation)
            }
            if state.ticker == nil && !state.nodes.isEmpty {
                state.ticker = eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: probeInterval) { [weak self] _ in
                    self?.tick()
                }
            }
            return closing
        }
        for channel in closing { channel.close(promise: nil) }
    }

    /// Stops probing a cluster's nodes and closes their connections.
    public func unwatch(cluster: String) {
        let closing: [any Channel] = state.withLock { state in
            state.listeners[cluster] = nil
            let names = state.nodes.filter { $0.value.cluster == cluster }.map(\.key)
            return names.compactMap { state.nodes.removeValue(forKey: $0)?.channel }
        }
        for channel in closing { channel.close(promise: nil) }
    }

    /// The node's liveness now.
    public func liveness(of name: String) -> NodeLiveness {
        state.withLock { state in
            guard let link = state.nodes[name] else { return .unknown }
            guard link.channel != nil else { return link.reported == .unreachable ? .unreachable : .unknown }
            if let sent = link.probeSentAt {
                let waited = NIODeadline.now() - sent
                if waited > silenceThreshold { return .silent(milliseconds: waited.nanoseconds / 1_000_000) }
            }
            return link.reported == .answering ? .answering : .unknown
        }
    }

    /// Sends `commands` as one pipeline on the node's link and returns one reply per command
    /// (errors as values). Returns nil, sending nothing, when the node has no authenticated link
    /// at `address` right now: the caller then opens a connection of its own.
    public func send(_ commands: [[String]], to name: String, at address: NodeAddress, timeout: Duration) async throws -> [RESPValue]? {
        let channel: (any Channel)? = state.withLock { state in
            guard let link = state.nodes[name], link.target.address == address, link.authenticated else { return nil }
            return link.channel
        }
        guard let channel else { return nil }
        var bytes = channel.allocator.buffer(capacity: 64 * commands.count)
        for command in commands { RESPCommandEncoder.encode(command, into: &bytes) }
        let promise = eventLoop.makePromise(of: [RESPValue].self)
        let gathering = ReplyGathering(count: commands.count, promise: promise)
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        // Completing a promise twice is a no-op in NIO: whichever of reply and deadline comes
        // first decides; a late reply is matched to its place in the stream and dropped.
        let deadline = eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
            promise.fail(NodeUnreachableError(address: address, reason: "no reply within \(timeout) on the kept-open connection"))
        }
        channel.writeAndFlush(LinkRequest(bytes: bytes, expected: .replies(gathering)), promise: nil)
        defer { deadline.cancel() }
        return try await promise.futureResult.get()
    }

    /// Closes every connection; the links probe nothing afterwards.
    public func shutdown() {
        let channels: [any Channel] = state.withLock { state in
            state.ticker?.cancel()
            state.ticker = nil
            state.listeners = [:]
            defer { state.nodes = [:] }
            return state.nodes.values.compactMap(\.channel)
        }
        for channel in channels { channel.close(promise: nil) }
    }

    // MARK: Probing (on the event loop)

    private static let ping: ByteBuffer = ByteBuffer(string: "*1\r\n$4\r\nPING\r\n")

    private func tick() {
        let now = NIODeadline.now()
        var connect: [(String, Int, LinkTarget)] = []
        var probe: [any Channel] = []
        var notify: [@Sendable () -> Void] = []
        state.withLock { state in
            state.ticks &+= 1
            let ticks = state.ticks
            for (name, var link) in state.nodes {
                if let channel = link.channel {
                    if let sent = link.probeSentAt {
                        let waited = now - sent
                        if waited > silenceThreshold && !link.reported.isSilent {
                            link.reported = .silent(milliseconds: waited.nanoseconds / 1_000_000)
                            if let listener = state.listeners[link.cluster] { notify.append(listener) }
                        }
                    } else if link.target.urgent || (ticks &+ link.generation) % relaxedProbeTicks == 0 {
                        // Relaxed probes are spread over the ticks by generation.
                        link.probeSentAt = now
                        probe.append(channel)
                    }
                } else if !link.connecting && now >= link.nextConnect && connect.count < connectsPerTick {
                    link.connecting = true
                    connect.append((name, link.generation, link.target))
                }
                state.nodes[name] = link
            }
        }
        for channel in probe { channel.writeAndFlush(LinkRequest(bytes: Self.ping, expected: .probe), promise: nil) }
        for (name, generation, target) in connect { self.connect(name, generation: generation, target) }
        for listener in notify { listener() }
    }

    private func connect(_ name: String, generation: Int, _ target: LinkTarget) {
        let tls: NIOSSLContext?
        do {
            tls = target.address.tls ? try tlsContext() : nil
        } catch {
            connected(name, generation: generation, channel: nil)
            return
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.milliseconds(300))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPValueDecoder()))
                    try channel.pipeline.syncOperations.addHandler(LinkHandler(links: self, name: name, address: target.address, generation: generation))
                }
            }
        let connecting: EventLoopFuture<any Channel>
        if let path = target.address.unixSocket {
            connecting = bootstrap.connect(unixDomainSocketPath: path)
        } else {
            connecting = bootstrap.connect(host: target.address.host, port: target.address.port)
        }
        connecting.whenComplete { result in
            switch result {
            case .success(let channel):
                if let credentials = target.credentials {
                    var bytes = channel.allocator.buffer(capacity: 64)
                    RESPCommandEncoder.encode(["AUTH", credentials.user, credentials.password], into: &bytes)
                    channel.writeAndFlush(LinkRequest(bytes: bytes, expected: .authentication), promise: nil)
                }
                self.connected(name, generation: generation, channel: channel, authenticated: target.credentials == nil)
            case .failure:
                self.connected(name, generation: generation, channel: nil)
            }
        }
    }

    private func connected(_ name: String, generation: Int, channel: (any Channel)?, authenticated: Bool = false) {
        let (listener, stale): ((@Sendable () -> Void)?, Bool) = state.withLock { state in
            guard var link = state.nodes[name], link.generation == generation else { return (nil, true) }
            link.connecting = false
            link.channel = channel
            link.authenticated = channel != nil && authenticated
            link.probeSentAt = nil
            var listener: (@Sendable () -> Void)?
            if channel == nil {
                link.failures += 1
                // Back off while the node stays away: 100 ms, doubling, at most 2 s.
                let pause = Int64(min(100 << min(link.failures - 1, 5), 2000))
                link.nextConnect = .now() + .milliseconds(pause)
                if link.reported != .unreachable {
                    link.reported = .unreachable
                    listener = state.listeners[link.cluster]
                }
            }
            state.nodes[name] = link
            return (listener, false)
        }
        if stale { channel?.close(promise: nil) }
        listener?()
    }

    fileprivate func authenticated(_ name: String, generation: Int) {
        state.withLock { state in
            guard var link = state.nodes[name], link.generation == generation, link.channel != nil else { return }
            link.authenticated = true
            state.nodes[name] = link
        }
    }

    fileprivate func authenticationRefused(_ name: String, generation: Int) {
        state.withLock { state in
            guard var link = state.nodes[name], link.generation == generation else { return }
            link.failures += 1
            link.nextConnect = .now() + .milliseconds(Int64(min(100 << min(link.failures - 1, 5), 2000)))
            state.nodes[name] = link
        }
    }

    fileprivate func replied(_ name: String, generation: Int) {
        transition(name, generation: generation, to: .answering) { link in
            link.probeSentAt = nil
            link.failures = 0
        }
    }

    fileprivate func closed(_ name: String, generation: Int) {
        transition(name, generation: generation, to: .unreachable) { link in
            link.channel = nil
            link.authenticated = false
            link.connecting = false
            link.probeSentAt = nil
            link.nextConnect = max(link.nextConnect, .now())
        }
    }

    /// Applies `change` to the node's entry (when it is still the connection's generation) and
    /// reports `liveness`, calling the cluster's listener (off the lock) when that is news.
    private func transition(_ name: String, generation: Int, to liveness: NodeLiveness, _ change: (inout Link) -> Void) {
        let listener: (@Sendable () -> Void)? = state.withLock { state in
            guard var link = state.nodes[name], link.generation == generation else { return nil }
            change(&link)
            let news = link.reported != liveness
            link.reported = liveness
            state.nodes[name] = link
            return news ? state.listeners[link.cluster] : nil
        }
        listener?()
    }
}

/// Replies to one pipeline of routine commands, gathered in order on the link's event loop.
private final class ReplyGathering: @unchecked Sendable {
    let count: Int
    var values: [RESPValue] = []
    let promise: EventLoopPromise<[RESPValue]>

    init(count: Int, promise: EventLoopPromise<[RESPValue]>) {
        self.count = count
        self.promise = promise
        values.reserveCapacity(count)
    }
}

/// Bytes for the node and what their replies are for.
private struct LinkRequest: Sendable {
    enum Expected: Sendable {
        case authentication
        case probe
        case replies(ReplyGathering)
    }

    var bytes: ByteBuffer
    var expected: Expected
}

/// Matches replies to requests in the order they were written (Redis answers a connection's
/// commands in order), and reports the probe's, the AUTH's and the connection's fate.
private final class LinkHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = RESPValue
    typealias OutboundIn = LinkRequest
    typealias OutboundOut = ByteBuffer

    let links: NodeLinks
    let name: String
    let address: NodeAddress
    let generation: Int
    /// One entry per reply still to come, in order.
    private var awaiting = CircularBuffer<LinkRequest.Expected>()

    init(links: NodeLinks, name: String, address: NodeAddress, generation: Int) {
        self.links = links
        self.name = name
        self.address = address
        self.generation = generation
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if case .replies(let gathering) = request.expected {
            for _ in 0..<gathering.count { awaiting.append(request.expected) }
        } else {
            awaiting.append(request.expected)
        }
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        // Any reply shows the node serving, whatever it answers.
        guard let expected = awaiting.popFirst() else { return }
        switch expected {
        case .probe:
            links.replied(name, generation: generation)
        case .authentication:
            guard case .error = value else {
                links.authenticated(name, generation: generation)
                return
            }
            // Refused (a warm node not adopted yet, a password being changed): connect again
            // later rather than keep a connection commands cannot use.
            links.authenticationRefused(name, generation: generation)
            context.close(promise: nil)
        case .replies(let gathering):
            gathering.values.append(value)
            if gathering.values.count == gathering.count { gathering.promise.succeed(gathering.values) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        for expected in awaiting {
            if case .replies(let gathering) = expected {
                gathering.promise.fail(NodeUnreachableError(address: address, reason: "the kept-open connection closed"))
            }
        }
        awaiting.removeAll()
        links.closed(name, generation: generation)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
