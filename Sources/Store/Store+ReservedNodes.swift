import GRDB
import Model

// Reserved nodes: purchases of reserved-node offerings.

/// A purchase as made: the offering's terms are copied, so a later price list changes nothing.
public struct ReservedNodeRecord: Sendable, Equatable {
    public var id: String
    public var offeringID: String
    public var nodeType: String
    /// Milliseconds since 1970.
    public var startTime: Int64
    /// Seconds.
    public var duration: Int
    public var fixedPrice: Double
    public var recurringHourly: Double
    public var nodeCount: Int
    public var offeringType: String

    public init(
        id: String, offeringID: String, nodeType: String, startTime: Int64, duration: Int, fixedPrice: Double, recurringHourly: Double,
        nodeCount: Int, offeringType: String
    ) {
        self.id = id
        self.offeringID = offeringID
        self.nodeType = nodeType
        self.startTime = startTime
        self.duration = duration
        self.fixedPrice = fixedPrice
        self.recurringHourly = recurringHourly
        self.nodeCount = nodeCount
        self.offeringType = offeringType
    }
}

extension Store {
    public func reservedNodes() throws -> [ReservedNodeRecord] {
        try read { db in try Transaction(db: db).reservedNodes() }
    }

    public func reservedNode(id: String) throws -> ReservedNodeRecord? {
        try read { db in try Transaction(db: db).reservedNode(id: id) }
    }
}

extension Transaction {
    static func reservedNodeRecord(_ row: Row) -> ReservedNodeRecord {
        ReservedNodeRecord(
            id: row["id"], offeringID: row["offering_id"], nodeType: row["node_type"], startTime: row["start_time"], duration: row["duration"],
            fixedPrice: row["fixed_price"], recurringHourly: row["recurring_hourly"], nodeCount: row["node_count"], offeringType: row["offering_type"])
    }

    public func reservedNodes() throws -> [ReservedNodeRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM reserved_nodes ORDER BY id").map(Self.reservedNodeRecord)
    }

    public func reservedNode(id: String) throws -> ReservedNodeRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM reserved_nodes WHERE id = ?", arguments: [id]).map(Self.reservedNodeRecord)
    }

    public func insert(_ node: ReservedNodeRecord) throws {
        try db.execute(
            sql: """
                INSERT INTO reserved_nodes (id, offering_id, node_type, start_time, duration, fixed_price, recurring_hourly, node_count, offering_type)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                node.id, node.offeringID, node.nodeType, node.startTime, node.duration, node.fixedPrice, node.recurringHourly, node.nodeCount,
                node.offeringType,
            ])
    }
}
