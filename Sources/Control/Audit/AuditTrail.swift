import Foundation
import Logging
import Model
import ServiceLifecycle
import Store
import Synchronization
import Ports

/// Who made a call, and from where.
public struct AuditActor: Sendable, Equatable {
    public var accessKeyID: String
    public var sourceAddress: String
    /// The key's name; empty with `--auth none`.
    public var accessKeyName: String

    public init(accessKeyID: String, sourceAddress: String, accessKeyName: String = "") {
        self.accessKeyID = accessKeyID
        self.sourceAddress = sourceAddress
        self.accessKeyName = accessKeyName
    }
}

/// Records audited calls (CloudTrail-like) and answers queries over them.
///
/// Records are written in batches, every 100 ms, in one transaction, so the trail
/// costs a mutation an append to a buffer rather than a second transaction of its own. A crash
/// can lose the last 100 ms of audit records; it cannot lose a resource record, which its service
/// writes before answering.
public final class AuditTrail: Service, Sendable {
    public static let flushInterval: Duration = .milliseconds(100)

    let store: Store
    let logger: Logger
    /// What records are stamped with and retention is measured by.
    public let clock: any WallClock
    /// Days records are kept.
    public let retentionDays: Int
    private let buffer = Mutex<[AuditRecord]>([])

    public init(store: Store, retentionDays: Int = 90, clock: any WallClock = SystemWallClock(), logger: Logger) {
        self.store = store
        self.clock = clock
        self.retentionDays = retentionDays
        self.logger = logger
    }

    /// Queues one record; the background loop writes it within `flushInterval` (a request never
    /// waits for a batch, and never holds the store's writer for one).
    public func record(_ record: AuditRecord) {
        buffer.withLock { $0.append(record) }
    }

    /// One step of a stack run, recorded as the stack's caller made it.
    public func recordStackStep(_ operation: String, resource: String, stack: String, actor: AuditActor?, outcome: String) {
        record(
            AuditRecord(
                time: clock.nowMilliseconds, accessKeyID: actor?.accessKeyID ?? "unknown", sourceAddress: actor?.sourceAddress ?? "",
                door: .stack, operation: operation, resource: resource, parameters: "{\"stack\":\"\(stack)\"}", outcome: outcome,
                httpStatus: outcome == "success" ? 200 : 400, accessKeyName: actor?.accessKeyName ?? "",
                // Every step was authorised before the run began.
                decision: actor?.accessKeyName.isEmpty == false ? "allowed" : ""))
    }

    /// Writes what is queued.
    public func flush() {
        let pending = buffer.withLock { buffer -> [AuditRecord] in
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        guard !pending.isEmpty else { return }
        do {
            try store.append(pending)
        } catch {
            logger.error("audit records could not be written", metadata: ["audit.count": "\(pending.count)", "error": "\(error)"])
        }
    }

    public func query(_ filter: AuditFilter) throws -> [AuditRecord] {
        flush()
        return try store.auditRecords(filter)
    }

    public func run() async throws {
        var sincePrune = Duration.seconds(3600)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if sincePrune >= .seconds(3600) {
                prune()
                sincePrune = .zero
            }
            try? await Task.sleep(for: Self.flushInterval)
            sincePrune += Self.flushInterval
            flush()
        }
        flush()
    }

    /// Removes records past the retention.
    public func prune(now: Int64? = nil) {
        let cutoff = (now ?? clock.nowMilliseconds) - Int64(retentionDays) * 86_400_000
        if let removed = try? store.pruneAudit(before: cutoff), removed > 0 {
            logger.info("audit records past retention removed", metadata: ["audit.removed": "\(removed)", "audit.retention_days": "\(retentionDays)"])
        }
    }
}

/// Removes secrets from request parameters before they are recorded: any member whose name
/// speaks of a password, secret or token (at any depth) becomes "(redacted)".
public enum AuditRedaction {
    public static func redact(_ value: Any) -> Any {
        if let object = value as? [String: Any] {
            var copy: [String: Any] = [:]
            for (key, member) in object {
                let lowered = key.lowercased()
                copy[key] = lowered.contains("password") || lowered.contains("secret") || lowered.contains("token") && lowered != "nexttoken"
                    ? "(redacted)" : redact(member)
            }
            return copy
        }
        if let list = value as? [Any] { return list.map(redact) }
        return value
    }
}
