import Foundation
import GRDB
import Model

// Custom parameter groups and the values they set.

extension Store {
    public func parameterGroup(named name: String) throws -> ParameterGroupRecord? {
        try read { db in try ParameterGroupRecord.fetchOne(db, key: name) }
    }

    public func parameterGroups() throws -> [ParameterGroupRecord] {
        try read { db in try ParameterGroupRecord.order(ParameterGroupRecord.Columns.name).fetchAll(db) }
    }

    /// The values a group sets that differ from its family's defaults.
    public func parameterValues(of group: String) throws -> [String: String] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT name, value FROM parameter_values WHERE group_name = ?", arguments: [group])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as String, $0["value"] as String) })
        }
    }
}

extension Transaction {
    public func parameterGroup(named name: String) throws -> ParameterGroupRecord? {
        try ParameterGroupRecord.fetchOne(db, key: name)
    }

    public func insert(_ group: ParameterGroupRecord) throws {
        try group.insert(db)
    }

    /// Sets values (nil puts a parameter back to its family default) and bumps the group's
    /// revision, which tells every cluster using it to apply it.
    public func changeParameters(of group: ParameterGroupRecord, set values: [String: String?]) throws {
        for (parameter, value) in values.sorted(by: { $0.key < $1.key }) {
            if let value {
                try db.execute(
                    sql: "INSERT INTO parameter_values (group_name, name, value) VALUES (?, ?, ?) ON CONFLICT(group_name, name) DO UPDATE SET value = excluded.value",
                    arguments: [group.name, parameter, value])
            } else {
                try db.execute(sql: "DELETE FROM parameter_values WHERE group_name = ? AND name = ?", arguments: [group.name, parameter])
            }
        }
        try bumpRevision(of: group)
    }

    /// Removes every value a group sets (back to the family defaults) and bumps its revision.
    public func resetAllParameters(of group: ParameterGroupRecord) throws {
        try db.execute(sql: "DELETE FROM parameter_values WHERE group_name = ?", arguments: [group.name])
        try bumpRevision(of: group)
    }

    private func bumpRevision(of group: ParameterGroupRecord) throws {
        var group = group
        group.revision += 1
        group.revisedAt = Int64(Date().timeIntervalSince1970 * 1000)
        try group.update(db)
    }

    /// Deletes a group and (by cascade) its values.
    public func deleteParameterGroup(named name: String) throws {
        _ = try ParameterGroupRecord.deleteOne(db, key: name)
    }
}
