import Foundation
import GRDB
import Model

// Access keys: who may call the API, and what each may do.

/// Whether a key is accepted: an inactive key is refused at once, and can be made active again.
public enum AccessKeyStatus: String, Sendable, Codable, CaseIterable {
    case active = "Active"
    case inactive = "Inactive"
}

/// An access key as stored: its secret sealed, its policy as the JSON document enforced.
public struct AccessKeyRecord: Sendable, Equatable {
    public var id: String
    /// The principal; at most two keys share one (rotation).
    public var name: String
    public var sealedSecret: Data
    public var policy: String
    /// `admin`, `read-only` or `ci` when the policy came from a built-in template.
    public var template: String?
    public var status: AccessKeyStatus
    /// Milliseconds since 1970.
    public var createdAt: Int64
    public var lastUsedAt: Int64?

    public init(
        id: String, name: String, sealedSecret: Data, policy: String, template: String?, status: AccessKeyStatus, createdAt: Int64,
        lastUsedAt: Int64? = nil
    ) {
        self.id = id
        self.name = name
        self.sealedSecret = sealedSecret
        self.policy = policy
        self.template = template
        self.status = status
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}

extension Store {
    public func accessKeys() throws -> [AccessKeyRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM access_keys ORDER BY created_at, id").map(Transaction.accessKeyRecord) }
    }

    /// Records when keys were last used, in one transaction (the registry flushes them in batches).
    public func recordAccessKeyUse(_ times: [String: Int64]) throws {
        guard !times.isEmpty else { return }
        try write { transaction in
            for (id, time) in times {
                try transaction.db.execute(
                    sql: "UPDATE access_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?", arguments: [time, id])
            }
        }
    }
}

extension Transaction {
    static func accessKeyRecord(_ row: Row) throws -> AccessKeyRecord {
        AccessKeyRecord(
            id: row["id"], name: row["name"], sealedSecret: row["sealed_secret"], policy: row["policy"], template: row["template"],
            status: try AccessKeyStatus.stored(row, "status", table: "access_keys"), createdAt: row["created_at"], lastUsedAt: row["last_used_at"])
    }

    public func accessKeys() throws -> [AccessKeyRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM access_keys ORDER BY created_at, id").map(Self.accessKeyRecord)
    }

    public func accessKey(id: String) throws -> AccessKeyRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM access_keys WHERE id = ?", arguments: [id]).map(Self.accessKeyRecord)
    }

    /// Inserts the key, or replaces the one with its id.
    public func save(_ key: AccessKeyRecord) throws {
        try db.execute(
            sql: """
                INSERT INTO access_keys (id, name, sealed_secret, policy, template, status, created_at, last_used_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, sealed_secret = excluded.sealed_secret, policy = excluded.policy,
                    template = excluded.template, status = excluded.status
                """,
            arguments: [key.id, key.name, key.sealedSecret, key.policy, key.template, key.status.rawValue, key.createdAt, key.lastUsedAt])
    }

    public func deleteAccessKey(id: String) throws {
        try db.execute(sql: "DELETE FROM access_keys WHERE id = ?", arguments: [id])
    }
}
