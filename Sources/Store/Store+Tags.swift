import GRDB
import Model

// Tags of any resource, keyed by its ARN.

extension Store {
    public func tags(of arn: String) throws -> [TagRecord] {
        try read { db in try Transaction(db: db).tags(of: arn) }
    }
}

extension Transaction {
    // Tagging is the busiest write: its statements are prepared once per connection (a query
    // built through GRDB's query interface each time was most of TagResource's cost).

    public func tags(of arn: String) throws -> [TagRecord] {
        try TagRecord.fetchAll(db.cachedStatement(sql: "SELECT * FROM tags WHERE resource_arn = ? ORDER BY key"), arguments: [arn])
    }

    /// How many tags a resource has.
    public func tagCount(of arn: String) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM tags WHERE resource_arn = ?"), arguments: [arn]) ?? 0
    }

    /// Adds tags, overwriting the value of a key the resource already has.
    public func save(_ tags: [TagRecord]) throws {
        let statement = try db.cachedStatement(
            sql: "INSERT INTO tags (resource_arn, key, value) VALUES (?, ?, ?) ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value")
        for tag in tags { try statement.execute(arguments: [tag.resourceArn, tag.key, tag.value]) }
    }

    /// Removes one tag; false when the resource has no tag with that key.
    public func removeTag(_ key: String, of arn: String) throws -> Bool {
        try TagRecord.deleteOne(db, key: [TagRecord.CodingKeys.resourceArn.rawValue: arn, TagRecord.CodingKeys.key.rawValue: key])
    }

    /// Removes every tag of a resource: a deleted resource takes its tags with it, so a new one
    /// of the same name starts with none.
    public func removeAllTags(of arn: String) throws {
        try TagRecord.filter(TagRecord.Columns.resourceArn == arn).deleteAll(db)
    }
}
