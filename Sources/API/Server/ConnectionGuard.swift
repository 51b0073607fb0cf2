import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import Ports
import NIOCore
import NIOHTTP1
import Synchronization

/// Limits that keep the API's listener from being starved of descriptors by slow or idle
/// clients: how many connections may be open at once, how long a new connection may take to
/// send its first request's headers, and how long a connection may sit with no request.
public struct ConnectionLimits: Sendable {
    /// Connections open at once; past it a new connection is answered 503 and closed at once.
    public var maxConnections: Int
    /// From accept (TLS handshake included) until the first request's headers are complete.
    public var headerTimeout: Duration
    /// With no request in progress (before a request's head, between kept-alive requests).
    public var idleTimeout: Duration

    public init(maxConnections: Int, headerTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60)) {
        self.maxConnections = maxConnections
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
    }

    /// The default cap for a descriptor limit: half of it, so that node supervision, SQLite and
    /// process probes always keep the other half, and at most 4096.
    public static func defaultMaxConnections(descriptorLimit: Int) -> Int {
        max(16, min(4096, (descriptorLimit - 64) / 2))
    }
}

/// Counts open connections across every event loop.
public final class ConnectionCounter: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)
    /// Refusals since the last warning, so a flood logs one line a few seconds, not one per socket.
    private let refusals = Mutex<(count: Int, lastWarning: Duration?)>((0, nil))
    let logger: Logger
    let clock: any WallClock

    public init(limit: Int, clock: any WallClock, logger: Logger) {
        self.limit = limit
        self.clock = clock
        self.logger = logger
    }

    public var current: Int { open.load(ordering: .relaxed) }

    /// Takes a slot; false (and nothing taken) when every slot is in use.
    func acquire() -> Bool {
        let now = open.add(1, ordering: .relaxed).newValue
        if now <= limit { return true }
        open.subtract(1, ordering: .relaxed)
        noteRefusal()
        return false
    }

    func release() {
        open.subtract(1, ordering: .relaxed)
    }

    private func noteRefusal() {
        let now = clock.monotonic
        let report: Int? = refusals.withLock { state in
            state.count += 1
            if let last = state.lastWarning, now - last < .seconds(10) { return nil }
            defer { state = (0, now) }
            return state.count
        }
        if let report {
            logger.warning(
                "connection limit reached; refusing new connections with 503",
                metadata: ["http.max_connections": "\(limit)", "http.refused": "\(report)"])
        }
    }
}

/// Wraps a child channel (HTTP/1, possibly inside TLS) with `ConnectionGuardHandler`, placed
/// nearest the socket's plaintext so it sees every byte of every request head.
public struct GuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value
    let base: Base
    let counter: ConnectionCounter
    let headerTimeout: Duration
    public init(_ base: Base, counter: ConnectionCounter, headerTimeout: Duration) {
        self.base = base
        self.counter = counter
        self.headerTimeout = headerTimeout
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let guardHandler = ConnectionGuardHandler(
            counter: counter, headerTimeout: .nanoseconds(headerTimeout.nanoseconds))
        // Both handlers live on the channel's event loop, where every closure below runs.
        let bound = NIOLoopBound(guardHandler, eventLoop: channel.eventLoop)
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(bound.value)
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }.flatMapThrowing { value in
            // Malformed HTTP is answered like every other error, in JSON, before Hummingbird's
            // own bare 400 would be.
            if let state = try? channel.pipeline.syncOperations.handler(type: HTTPConnectionStateHandler.self) {
                try channel.pipeline.syncOperations.addHandler(MalformedRequestResponder(connection: bound.value), position: .before(state))
            }
            return value
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

/// Per connection: takes a slot of the connection cap (or answers 503 and closes), and closes a
/// connection whose first request head is not complete within the header timeout — the
/// slow-loris defence; Hummingbird's idle timeout covers the time between requests.
///
/// It reads raw bytes, looking only for the blank line that ends the first head, and passes
/// everything on untouched.
final class ConnectionGuardHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let counter: ConnectionCounter
    let headerTimeout: TimeAmount
    private var holdsSlot = false
    private var refused = false
    private var headComplete = false
    /// The last bytes seen, to find a `\r\n\r\n` split across reads.
    private var tail: [UInt8] = []
    private var timer: Scheduled<Void>?

    init(counter: ConnectionCounter, headerTimeout: TimeAmount) {
        self.counter = counter
        self.headerTimeout = headerTimeout
    }

    static let refusal = rawResponse(
        status: "503 Service Unavailable", code: "InsufficientClusterCapacityFault",
        message: "Too many connections to the API; try again shortly.", extraHeaders: "Retry-After: 1\r\n")

    /// A complete HTTP/1.1 error response in the API's JSON shape, closing the connection.
    static func rawResponse(status: String, code: String, message: String, extraHeaders: String = "") -> [UInt8] {
        let body = #"{"error":{"code":""# + code + #"","message":""# + message + #""}}"#
        return Array(
            ("HTTP/1.1 \(status)\r\nContent-Type: application/json\r\n\(extraHeaders)Connection: close\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n" + body).utf8)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        holdsSlot = counter.acquire()
        refused = !holdsSlot
        // A refused connection gets a moment for its 503 (inside TLS, after the handshake) and
        // is closed then whatever happened, so refusals cannot pile up either.
        let deadline = holdsSlot ? headerTimeout : min(headerTimeout, .seconds(2))
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: deadline) { channel.close(promise: nil) }
        if context.channel.isActive { refuseIfNeeded() }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        refuseIfNeeded()
    }

    /// The handler's own place in the pipeline, below the HTTP codec: raw bytes written here go
    /// straight to the socket (or TLS).
    private var context: ChannelHandlerContext?

    /// Answers with raw bytes and closes the connection.
    func answerAndClose(_ bytes: [UInt8]) {
        guard let context else { return }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes))).whenComplete { _ in channel.close(promise: nil) }
    }

    private func refuseIfNeeded() {
        guard refused else { return }
        refused = false
        answerAndClose(Self.refusal)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard holdsSlot else { return }  // a refused connection's bytes go nowhere
        if !headComplete {
            let buffer = unwrapInboundIn(data)
            let bytes = tail + buffer.readableBytesView
            if Self.containsHeadEnd(bytes) {
                headComplete = true
                timer?.cancel()
                timer = nil
                tail = []
            } else {
                tail = Array(bytes.suffix(3))
            }
        }
        context.fireChannelRead(data)
    }

    static func containsHeadEnd(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4 else { return false }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return true
        }
        return false
    }

    func channelInactive(context: ChannelHandlerContext) {
        releaseSlot()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        releaseSlot()
        self.context = nil
    }

    private func releaseSlot() {
        timer?.cancel()
        timer = nil
        if holdsSlot {
            holdsSlot = false
            counter.release()
        }
    }
}

/// Answers a request the HTTP parser cannot read (a bad Content-Length, a broken header) with a
/// JSON 400 naming the problem, as every other error is answered, and closes the connection.
final class MalformedRequestResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any
    let connection: ConnectionGuardHandler

    init(connection: ConnectionGuardHandler) {
        self.connection = connection
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let reason = "\(parserError)".replacingOccurrences(of: "\"", with: "'")
        connection.answerAndClose(
            ConnectionGuardHandler.rawResponse(
                status: "400 Bad Request", code: "InvalidParameterValueException", message: "The request is not valid HTTP/1.1 (\(reason))."))
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with the connection guard and idle timeout; `wrap` may add TLS around it.
    public static func guardedHTTP1(
        limits: ConnectionLimits, counter: ConnectionCounter,
        wrap: @escaping @Sendable (GuardedChannel<HTTP1Channel>) throws -> any ServerChildChannel = { $0 }
    ) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            let http = HTTP1Channel(
                responder: responder,
                configuration: .init(idleTimeout: .nanoseconds(limits.idleTimeout.nanoseconds)))
            return try wrap(GuardedChannel(http, counter: counter, headerTimeout: limits.headerTimeout))
        }
    }
}
