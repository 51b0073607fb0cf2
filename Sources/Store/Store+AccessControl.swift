import GRDB
import Model

// Users and ACLs.

/// A custom ACL: its members and the revision bumped whenever they or their rights change.
public struct ACLRecord: Sendable, Equatable {
    public var name: String
    public var revision: Int
    public var users: [String]
}

extension Store {
    public func users() throws -> [UserRecord] {
        try read { db in try UserRecord.order(UserRecord.Columns.name).fetchAll(db) }
    }

    public func user(named name: String) throws -> UserRecord? {
        try read { db in try UserRecord.fetchOne(db, key: name) }
    }

    /// Every custom ACL, in name order.
    public func acls() throws -> [ACLRecord] {
        try read { db in try Transaction(db: db).acls(named: nil) }
    }

    public func acl(named name: String) throws -> ACLRecord? {
        try read { db in try Transaction(db: db).acls(named: name).first }
    }
}

extension Transaction {
    public func user(named name: String) throws -> UserRecord? {
        try UserRecord.fetchOne(db, key: name)
    }

    public func insert(_ user: UserRecord) throws {
        try user.insert(db)
    }

    /// Replaces a user and bumps every ACL holding it; returns the clusters that must apply it.
    public func update(_ user: UserRecord) throws -> [String] {
        try user.update(db)
        return try bumpACLs(holding: user.name)
    }

    /// Deletes a user, taking it out of every ACL; returns the clusters that must apply it.
    public func deleteUser(named name: String) throws -> [String] {
        let clusters = try bumpACLs(holding: name)
        try db.execute(sql: "DELETE FROM acl_users WHERE user_name = ?", arguments: [name])
        _ = try UserRecord.deleteOne(db, key: name)
        return clusters
    }

    private func bumpACLs(holding user: String) throws -> [String] {
        let acls = try String.fetchAll(db, sql: "SELECT acl_name FROM acl_users WHERE user_name = ? ORDER BY acl_name", arguments: [user])
        var clusters: [String] = []
        for acl in acls {
            try db.execute(sql: "UPDATE acls SET revision = revision + 1 WHERE name = ?", arguments: [acl])
            clusters += try clusterNames(using: .acl(acl))
        }
        return clusters
    }

    public func acl(named name: String) throws -> ACLRecord? {
        try acls(named: name).first
    }

    func acls(named name: String?) throws -> [ACLRecord] {
        try Row.fetchAll(db, sql: "SELECT name, revision FROM acls WHERE ?1 IS NULL OR name = ?1 ORDER BY name", arguments: [name]).map { row in
            let name: String = row["name"]
            let users = try String.fetchAll(db, sql: "SELECT user_name FROM acl_users WHERE acl_name = ? ORDER BY user_name", arguments: [name])
            return ACLRecord(name: name, revision: row["revision"], users: users)
        }
    }

    public func insertACL(named name: String, users: [String], createdAt: Int64) throws {
        try db.execute(sql: "INSERT INTO acls (name, created_at) VALUES (?, ?)", arguments: [name, createdAt])
        for user in users { try db.execute(sql: "INSERT INTO acl_users (acl_name, user_name) VALUES (?, ?)", arguments: [name, user]) }
    }

    /// Adds and removes members and bumps the ACL's revision; returns the clusters using it.
    public func changeMembers(ofACL name: String, add: [String], remove: [String]) throws -> [String] {
        for user in add {
            try db.execute(sql: "INSERT OR IGNORE INTO acl_users (acl_name, user_name) VALUES (?, ?)", arguments: [name, user])
        }
        for user in remove {
            try db.execute(sql: "DELETE FROM acl_users WHERE acl_name = ? AND user_name = ?", arguments: [name, user])
        }
        try db.execute(sql: "UPDATE acls SET revision = revision + 1 WHERE name = ?", arguments: [name])
        return try clusterNames(using: .acl(name))
    }

    /// Deletes an ACL and (by cascade) its memberships.
    public func deleteACL(named name: String) throws {
        try db.execute(sql: "DELETE FROM acls WHERE name = ?", arguments: [name])
    }
}
