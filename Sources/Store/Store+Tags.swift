import GRDB
import Model

// Tags of any resource, keyed by its ARN.

extension Store {
    public func tags(of arn: String) throws -> [TagRecord] {
        try read { db in try Transaction(db: db).tags(of: arn) }
    }
}

extension Transaction {
    public func tags(of arn: String) throws -> [TagRecord] {
        try TagRecord.filter(TagRecord.Columns.resourceArn == arn).order(TagRecord.Columns.key).fetchAll(db)
    }

    /// Adds tags, overwriting the value of a key the resource already has.
    public func save(_ tags: [TagRecord]) throws {
        for tag in tags { try tag.save(db) }
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
