import Foundation
import Model
import Ports
import Store
import Synchronization

/// An access key as callers see it: never its secret.
public struct AccessKeyView: Sendable, Equatable {
    public var id: String
    public var name: String
    public var status: AccessKeyStatus
    /// The IAM policy document enforced, JSON.
    public var policy: String
    public var template: String?
    public var createdAt: Int64
    public var lastUsedAt: Int64?
}

/// A key that authenticated: who it is and what its policy allows.
public struct Caller: Sendable {
    public var key: AccessKey
    public var name: String
    public var policy: IAMPolicy
}

/// The access keys: created, rotated, deactivated and deleted through the API, kept in the store
/// with their secrets sealed, and held in memory (secrets open) for the doors, which look one up
/// on every request.
///
/// The first key is the credentials file's, named `admin` with the admin template. A change that
/// would leave no active admin key is refused, so the server can always be administered.
public final class AccessKeyService: Sendable {
    struct Entry {
        var record: AccessKeyRecord
        var secret: String
        var policy: IAMPolicy
        /// The last use recorded in memory; written to the store at most once a minute per key.
        var lastUsed: Int64?
    }

    let store: Store
    let sealer: SecretSealer
    let clock: any WallClock
    private let entries: Mutex<[String: Entry]>

    public static let adminName = "admin"
    /// How stale a stored last-used time may be: a write per request would halve the AWS door's throughput.
    static let lastUsedResolution: Int64 = 60_000
    /// IAM's AccessKeysPerUser quota.
    public static let keysPerName = 2

    public init(store: Store, sealer: SecretSealer, clock: any WallClock) throws {
        self.store = store
        self.sealer = sealer
        self.clock = clock
        var loaded: [String: Entry] = [:]
        for record in try store.accessKeys() {
            loaded[record.id] = Entry(
                record: record, secret: try sealer.open(record.sealedSecret, keyID: record.id), policy: try IAMPolicyDocument.parse(record.policy),
                lastUsed: record.lastUsedAt)
        }
        entries = Mutex(loaded)
    }

    /// Makes `key` (the credentials file's, or the operator's `--access-key-id`) an active admin
    /// key. A file key is imported only into an empty table: once keys exist, one deleted
    /// through the API stays deleted. A key the operator gives is always made an active admin
    /// (the way back in when every admin secret is lost).
    public func bootstrap(admin key: AccessKey, givenByOperator: Bool) throws {
        let existing = entries.withLock { $0[key.id] }
        if !givenByOperator && (existing != nil || !entries.withLock({ $0.isEmpty })) { return }
        if let existing, existing.secret == key.secret, existing.record.status == .active, existing.record.template == "admin" { return }
        let policy = PolicyTemplates.admin
        let record = AccessKeyRecord(
            id: key.id, name: existing?.record.name ?? Self.adminName, sealedSecret: try sealer.seal(key.secret, keyID: key.id),
            policy: IAMPolicyDocument.render(policy), template: "admin", status: .active, createdAt: existing?.record.createdAt ?? clock.nowMilliseconds,
            lastUsedAt: existing?.record.lastUsedAt)
        try store.write { try $0.save(record) }
        entries.withLock { $0[key.id] = Entry(record: record, secret: key.secret, policy: policy, lastUsed: record.lastUsedAt) }
    }

    // MARK: The doors' lookup

    public enum Lookup {
        case active(Caller)
        case inactive
        case unknown
    }

    /// The key with this id, on every authenticated request.
    public func lookup(_ id: String) -> Lookup {
        guard let entry = entries.withLock({ $0[id] }) else { return .unknown }
        guard entry.record.status == .active else { return .inactive }
        return .active(Caller(key: AccessKey(id: id, secret: entry.secret), name: entry.record.name, policy: entry.policy))
    }

    /// The name of the key with this id, for the audit trail.
    public func name(of id: String) -> String? {
        entries.withLock { $0[id]?.record.name }
    }

    /// Notes a successful authentication. The store hears of it when its time there is a minute old.
    public func recordUse(_ id: String) {
        let now = clock.nowMilliseconds
        let flush: Bool = entries.withLock { entries in
            guard var entry = entries[id] else { return false }
            let stale = now - (entry.record.lastUsedAt ?? 0) >= Self.lastUsedResolution
            entry.lastUsed = now
            if stale { entry.record.lastUsedAt = now }
            entries[id] = entry
            return stale
        }
        // A failed write only leaves the stored time older; the next use a minute on retries it.
        if flush { try? store.recordAccessKeyUse([id: now]) }
    }

    // MARK: The resource

    public func list() -> [AccessKeyView] {
        entries.withLock { $0.values.map(Self.view) }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func describe(_ id: String) throws -> AccessKeyView {
        try Self.view(entry(id))
    }

    /// A new key for a new principal; the secret is returned this once.
    public func create(name: String, policy: AccessKeyPolicy) throws -> (view: AccessKeyView, secret: String) {
        try AccessKeyPolicy.validate(name: name)
        return try issue(name: name, policy: policy, rotation: false)
    }

    /// A second key for the same principal and policy, so a client can move to it before the
    /// old one is deactivated and deleted.
    public func rotate(_ id: String) throws -> (view: AccessKeyView, secret: String) {
        let old = try entry(id)
        return try issue(name: old.record.name, policy: AccessKeyPolicy(policy: old.policy, template: old.record.template), rotation: true)
    }

    /// Activates or deactivates a key, or gives it a new policy; an inactive key is refused from
    /// the next request on.
    public func update(_ id: String, status: AccessKeyStatus?, policy: AccessKeyPolicy?) throws -> AccessKeyView {
        guard status != nil || policy != nil else {
            throw MemoryDBError(.invalidParameterCombination, "Give status (Active or Inactive), policy, or both.")
        }
        return try mutate { entries in
            guard var entry = entries[id] else { throw Self.notFound(id) }
            if let status { entry.record.status = status }
            if let policy {
                entry.policy = policy.policy
                entry.record.policy = IAMPolicyDocument.render(policy.policy)
                entry.record.template = policy.template
            }
            try Self.keepAnAdmin(in: entries, replacing: id, with: entry)
            let record = entry.record
            try store.write { try $0.save(record) }
            entries[id] = entry
            return Self.view(entry)
        }
    }

    public func delete(_ id: String) throws {
        try mutate { entries in
            guard entries[id] != nil else { throw Self.notFound(id) }
            try Self.keepAnAdmin(in: entries, replacing: id, with: nil)
            try store.write { try $0.deleteAccessKey(id: id) }
            entries.removeValue(forKey: id)
        }
    }

    // MARK: Helpers

    /// Every change holds the registry's lock through its store write, so two changes cannot
    /// both pass the last-admin check; lookups wait only for that one write.
    func mutate<T>(_ body: (inout [String: Entry]) throws -> T) throws -> T {
        try entries.withLock { entries throws -> T in try body(&entries) }
    }

    func issue(name: String, policy: AccessKeyPolicy, rotation: Bool) throws -> (view: AccessKeyView, secret: String) {
        let key = AccessKey.generate()
        let record = AccessKeyRecord(
            id: key.id, name: name, sealedSecret: try sealer.seal(key.secret, keyID: key.id), policy: IAMPolicyDocument.render(policy.policy),
            template: policy.template, status: .active, createdAt: clock.nowMilliseconds)
        let entry = Entry(record: record, secret: key.secret, policy: policy.policy)
        try mutate { entries in
            let sameName = entries.values.filter { $0.record.name == name }.count
            if sameName >= (rotation ? Self.keysPerName : 1) {
                if !rotation {
                    throw MemoryDBError(
                        .accessKeyAlreadyExists,
                        "An access key named '\(name)' exists; rotate it (POST /v1/access-keys/{accessKeyId}/rotate) for a second key, or choose another name.")
                }
                throw MemoryDBError(
                    .accessKeyQuotaExceeded,
                    "'\(name)' already has \(Self.keysPerName) keys (the most a principal holds); delete the one it no longer uses first.")
            }
            try store.write { try $0.save(record) }
            entries[key.id] = entry
        }
        return (Self.view(entry), key.secret)
    }

    func entry(_ id: String) throws -> Entry {
        guard let entry = entries.withLock({ $0[id] }) else { throw Self.notFound(id) }
        return entry
    }

    static func notFound(_ id: String) -> MemoryDBError {
        MemoryDBError(.accessKeyNotFound, "Access key '\(id)' not found.")
    }

    /// Refuses a change after which no active key holds the admin template.
    static func keepAnAdmin(in entries: [String: Entry], replacing id: String, with entry: Entry?) throws {
        var after = entries
        after[id] = entry
        guard !after.values.contains(where: { $0.record.template == "admin" && $0.record.status == .active }) else { return }
        throw MemoryDBError(
            .invalidAccessKeyState,
            "That would leave no active admin key, and nobody could manage keys again; create or activate another admin key first.")
    }

    static func view(_ entry: Entry) -> AccessKeyView {
        AccessKeyView(
            id: entry.record.id, name: entry.record.name, status: entry.record.status, policy: entry.record.policy, template: entry.record.template,
            createdAt: entry.record.createdAt, lastUsedAt: entry.lastUsed ?? entry.record.lastUsedAt)
    }
}
