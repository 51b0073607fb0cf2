import GRDB
import Model

// The audit trail.

/// The way a call came in: the AWS JSON 1.1 protocol, REST, or a stack run on a caller's behalf.
public enum AuditDoor: String, Sendable, Codable, CaseIterable {
    case aws, rest, stack
    /// The web console: REST calls made from a signed-in console page.
    case console
}

/// One audited call.
public struct AuditRecord: Sendable, Equatable {
    public var id: Int64?
    public var time: Int64
    public var accessKeyID: String
    public var sourceAddress: String
    public var door: AuditDoor
    public var operation: String
    public var resource: String
    public var parameters: String
    public var outcome: String
    public var httpStatus: Int
    /// The key's name (its principal); empty when the call named no key this server has.
    public var accessKeyName: String
    /// The authorisation decision: allowed, denied, or unauthenticated (empty with --auth none).
    public var decision: String

    public init(
        id: Int64? = nil, time: Int64, accessKeyID: String, sourceAddress: String, door: AuditDoor, operation: String, resource: String,
        parameters: String, outcome: String, httpStatus: Int, accessKeyName: String = "", decision: String = ""
    ) {
        self.accessKeyName = accessKeyName
        self.decision = decision
        self.id = id
        self.time = time
        self.accessKeyID = accessKeyID
        self.sourceAddress = sourceAddress
        self.door = door
        self.operation = operation
        self.resource = resource
        self.parameters = parameters
        self.outcome = outcome
        self.httpStatus = httpStatus
    }
}

/// Which audit records to read: every given field must match; newest first, before `beforeID`.
public struct AuditFilter: Sendable, Equatable {
    public var door: AuditDoor?
    public var operation: String?
    public var resource: String?
    public var accessKeyID: String?
    public var accessKeyName: String?
    public var decision: String?
    public var outcome: String?
    public var since: Int64?
    public var until: Int64?
    public var beforeID: Int64?
    public var limit: Int

    public init(limit: Int = 100) { self.limit = limit }
}

extension Store {
    /// Several records in one transaction (the trail writes in batches).
    public func append(_ records: [AuditRecord]) throws {
        guard !records.isEmpty else { return }
        try write { transaction in
            // One prepared statement for the whole batch.
            let insert = try transaction.db.cachedStatement(
                sql: """
                    INSERT INTO audit_events (time, access_key_id, source_address, door, operation, resource, parameters, outcome, http_status,
                        access_key_name, decision)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for record in records {
                try insert.execute(arguments: [
                    record.time, record.accessKeyID, record.sourceAddress, record.door.rawValue, record.operation, record.resource, record.parameters,
                    record.outcome, record.httpStatus, record.accessKeyName, record.decision,
                ])
            }
        }
    }

    public func auditRecords(_ filter: AuditFilter) throws -> [AuditRecord] {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        func add(_ clause: String, _ value: (any DatabaseValueConvertible)?) {
            guard let value else { return }
            clauses.append(clause)
            arguments.append(value)
        }
        add("door = ?", filter.door?.rawValue)
        add("operation = ?", filter.operation)
        add("resource = ?", filter.resource)
        add("access_key_id = ?", filter.accessKeyID)
        add("access_key_name = ?", filter.accessKeyName)
        add("decision = ?", filter.decision)
        add("outcome = ?", filter.outcome)
        add("time >= ?", filter.since)
        add("time <= ?", filter.until)
        add("id < ?", filter.beforeID)
        let condition = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        arguments.append(filter.limit)
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_events \(condition) ORDER BY id DESC LIMIT ?", arguments: StatementArguments(arguments)).map { row in
                try AuditRecord(
                    id: row["id"], time: row["time"], accessKeyID: row["access_key_id"], sourceAddress: row["source_address"],
                    door: AuditDoor.stored(row, "door", table: "audit_events"),
                    operation: row["operation"], resource: row["resource"], parameters: row["parameters"], outcome: row["outcome"],
                    httpStatus: row["http_status"], accessKeyName: row["access_key_name"], decision: row["decision"])
            }
        }
    }

    /// Deletes records older than `cutoff` (milliseconds since 1970); returns how many.
    @discardableResult
    public func pruneAudit(before cutoff: Int64) throws -> Int {
        try write { transaction in
            try transaction.db.execute(sql: "DELETE FROM audit_events WHERE time < ?", arguments: [cutoff])
            return transaction.db.changesCount
        }
    }
}
