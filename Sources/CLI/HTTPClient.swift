import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A response as the CLI needs it: the status and the whole body.
struct HTTPReply: Sendable {
    var status: Int
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A minimal HTTP/1.1 client over SwiftNIO: one request per connection, TLS when the URL is
/// https (trusting a given CA file, e.g. `<data-dir>/ca.pem`, or the system's roots).
struct HTTPClient: Sendable {
    let host: String
    let port: Int
    let basePath: String
    let tls: NIOSSLContext?
    /// The `Host` header: host, and port when it is not the scheme's default.
    let authority: String

    init(url: String, caFile: String?) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = components.host, !host.isEmpty
        else {
            throw CLIError.usage("--endpoint-url must be http(s)://HOST[:PORT]; got '\(url)'.")
        }
        self.host = host
        port = components.port ?? (scheme == "https" ? 443 : 80)
        basePath = components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path
        authority = components.port.map { "\(host):\($0)" } ?? host
        if scheme == "https" {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let caFile { configuration.trustRoots = .file(caFile) }
            tls = try NIOSSLContext(configuration: configuration)
        } else {
            tls = nil
        }
    }

    func send(method: HTTPMethod, path: String, query: String, headers: [String: String], body: [UInt8], timeout: TimeAmount = .seconds(3600)) async throws -> HTTPReply {
        let target = basePath + path + (query.isEmpty ? "" : "?" + query)
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: HTTPReply.self)
        let tls = tls
        let host = host
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            let handler = try NIOSSLClientHandler(context: tls, serverHostname: host.first?.isNumber == true ? nil : host)
                            try channel.pipeline.syncOperations.addHandler(handler)
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ReplyCollector(promise: promise))
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            promise.fail(error)
            throw CLIError.unreachable("Cannot connect to \(authority): \(error). Is `memoryplane serve` running there (--endpoint-url)?")
        }
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: target)
        head.headers.add(name: "Host", value: authority)
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "Content-Length", value: String(body.count))
        head.headers.add(name: "User-Agent", value: "memoryplane-cli")
        for (name, value) in headers where name != "host" { head.headers.add(name: name, value: value) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if !body.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let timer = channel.eventLoop.scheduleTask(in: timeout) { promise.fail(CLIError.timeout("No answer from \(authority) in \(timeout.nanoseconds / 1_000_000_000) s.")) }
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }
}

/// Gathers one response, then completes the promise.
final class ReplyCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<HTTPReply>
    var status = 0
    var body: [UInt8] = []

    init(promise: EventLoopPromise<HTTPReply>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body(var buffer): body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end: promise.succeed(HTTPReply(status: status, body: body))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(CLIError.unreachable("The server closed the connection before answering."))
    }
}

/// What the CLI reports, each with its exit code.
enum CLIError: Error, CustomStringConvertible {
    case usage(String)
    case unreachable(String)
    case timeout(String)
    /// The server refused: its fault code and message.
    case api(status: Int, code: String, message: String)
    case failed(String)

    var description: String {
        switch self {
        case .usage(let message), .unreachable(let message), .timeout(let message), .failed(let message): message
        case .api(let status, let code, let message): "\(code) (HTTP \(status)): \(message)"
        }
    }
}
