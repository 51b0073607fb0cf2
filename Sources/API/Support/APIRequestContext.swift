import Control
import Hummingbird

/// The request context of every door; bounds request bodies at 1 MiB (MemoryDB requests are tiny).
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    /// The caller's address, for the audit trail.
    public let remoteAddress: String

    /// The key that authenticated the request (nil with `--auth none`, or before authentication).
    public var caller: Caller?

    public init(source: Source) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? ""
    }

    public var maxUploadSize: Int { 1024 * 1024 }
}
