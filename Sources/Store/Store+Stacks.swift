import GRDB
import Model

// Declarative stacks and the resources they own.

/// Where a stack's last run left it.
public enum StackStatus: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case applying, applied, failed, destroying
    case destroyFailed = "destroy-failed"
}

/// A stack as stored: its last document (redacted) and the state of its last run.
public struct StackRecord: Sendable, Equatable {
    public var name: String
    /// The redacted document, JSON.
    public var document: String
    public var status: StackStatus
    /// The last apply or destroy, JSON.
    public var lastRun: String?
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(name: String, document: String, status: StackStatus, lastRun: String?, createdAt: Int64, updatedAt: Int64) {
        self.name = name
        self.document = document
        self.status = status
        self.lastRun = lastRun
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

extension Store {
    public func stack(named name: String) throws -> StackRecord? {
        try read { db in try Transaction(db: db).stack(named: name) }
    }

    public func stacks() throws -> [StackRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM stacks ORDER BY name").map(Transaction.stackRecord)
        }
    }

    /// Every owned resource with its stack.
    public func stackOwners() throws -> [StackResourceRef: String] {
        try read { db in try Transaction(db: db).stackOwners() }
    }
}

extension Transaction {
    static func stackRecord(_ row: Row) throws -> StackRecord {
        StackRecord(
            name: row["name"], document: row["document"], status: try StackStatus.stored(row, "status", table: "stacks"), lastRun: row["last_run"], createdAt: row["created_at"],
            updatedAt: row["updated_at"])
    }

    public func stack(named name: String) throws -> StackRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM stacks WHERE name = ?", arguments: [name]).map(Self.stackRecord)
    }

    public func save(_ stack: StackRecord) throws {
        try db.execute(
            sql: """
                INSERT INTO stacks (name, document, status, last_run, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET document = excluded.document, status = excluded.status, last_run = excluded.last_run,
                    updated_at = excluded.updated_at
                """,
            arguments: [stack.name, stack.document, stack.status, stack.lastRun, stack.createdAt, stack.updatedAt])
    }

    /// Deletes a stack and (by cascade) its claims on resources.
    public func deleteStack(named name: String) throws {
        try db.execute(sql: "DELETE FROM stacks WHERE name = ?", arguments: [name])
    }

    public func stackOwners() throws -> [StackResourceRef: String] {
        var owners: [StackResourceRef: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT resource_type, resource_name, stack_name FROM stack_resources") {
            guard let type = StackResourceType(rawValue: row["resource_type"]) else { continue }
            owners[StackResourceRef(type, row["resource_name"])] = row["stack_name"]
        }
        return owners
    }

    public func stackOwner(of resource: StackResourceRef) throws -> String? {
        try String.fetchOne(
            db, sql: "SELECT stack_name FROM stack_resources WHERE resource_type = ? AND resource_name = ?",
            arguments: [resource.type.rawValue, resource.name])
    }

    /// Records that `stack` owns `resource`; a claim by another stack stays and is answered.
    public func claim(_ resource: StackResourceRef, for stack: String) throws {
        try db.execute(
            sql: "INSERT INTO stack_resources (resource_type, resource_name, stack_name) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            arguments: [resource.type.rawValue, resource.name, stack])
    }

    public func release(_ resource: StackResourceRef, from stack: String) throws {
        try db.execute(
            sql: "DELETE FROM stack_resources WHERE resource_type = ? AND resource_name = ? AND stack_name = ?",
            arguments: [resource.type.rawValue, resource.name, stack])
    }
}
