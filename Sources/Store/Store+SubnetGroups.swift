import GRDB
import Model

// Custom subnet groups and their subnets.

/// A custom subnet group with its subnets.
public struct SubnetGroupRecord: Sendable, Equatable {
    public var name: String
    public var description: String
    public var subnets: [BuiltinResources.Subnet]

    public init(name: String, description: String, subnets: [BuiltinResources.Subnet]) {
        self.name = name
        self.description = description
        self.subnets = subnets
    }
}

extension Store {
    public func subnetGroups() throws -> [SubnetGroupRecord] {
        try read { db in try Transaction(db: db).subnetGroups(named: nil) }
    }

    public func subnetGroup(named name: String) throws -> SubnetGroupRecord? {
        try read { db in try Transaction(db: db).subnetGroups(named: name).first }
    }
}

extension Transaction {
    public func subnetGroup(named name: String) throws -> SubnetGroupRecord? {
        try subnetGroups(named: name).first
    }

    func subnetGroups(named name: String?) throws -> [SubnetGroupRecord] {
        let groups = try Row.fetchAll(
            db, sql: "SELECT name, description FROM subnet_groups WHERE ?1 IS NULL OR name = ?1 ORDER BY name", arguments: [name])
        return try groups.map { row in
            let name: String = row["name"]
            let subnets = try Row.fetchAll(
                db, sql: "SELECT identifier, availability_zone FROM subnets WHERE group_name = ? ORDER BY identifier", arguments: [name]
            ).map { BuiltinResources.Subnet(identifier: $0["identifier"], availabilityZone: $0["availability_zone"]) }
            return SubnetGroupRecord(name: name, description: row["description"], subnets: subnets)
        }
    }

    public func insert(_ group: SubnetGroupRecord, createdAt: Int64) throws {
        try db.execute(
            sql: "INSERT INTO subnet_groups (name, description, created_at) VALUES (?, ?, ?)",
            arguments: [group.name, group.description, createdAt])
        try replaceSubnets(of: group)
    }

    /// Saves a group's description, and its subnets when `replaceSubnets`.
    public func update(_ group: SubnetGroupRecord, replaceSubnets: Bool) throws {
        try db.execute(sql: "UPDATE subnet_groups SET description = ? WHERE name = ?", arguments: [group.description, group.name])
        if replaceSubnets { try self.replaceSubnets(of: group) }
    }

    private func replaceSubnets(of group: SubnetGroupRecord) throws {
        try db.execute(sql: "DELETE FROM subnets WHERE group_name = ?", arguments: [group.name])
        for subnet in group.subnets {
            try db.execute(
                sql: "INSERT INTO subnets (group_name, identifier, availability_zone) VALUES (?, ?, ?)",
                arguments: [group.name, subnet.identifier, subnet.availabilityZone])
        }
    }

    /// Deletes a group and (by cascade) its subnets.
    public func deleteSubnetGroup(named name: String) throws {
        try db.execute(sql: "DELETE FROM subnet_groups WHERE name = ?", arguments: [name])
    }
}
