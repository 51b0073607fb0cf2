import Foundation
import GRDB
import Migrations
import Model

/// The control plane's state in SQLite: one writer, WAL, migrations applied at start-up.
///
/// Reads are methods of `Store`, one file per resource (`Store+Clusters.swift`, ...). Every
/// change goes through `write`, which hands the caller a `Transaction`: the service layer puts
/// the change, its tags and its event (and whatever else belongs with it) into one transaction,
/// so a crash leaves either all of it or none. Business rules (in-use checks, quotas) live in
/// the services; the store only reads and writes rows.
public struct Store: Sendable {
    let writer: any DatabaseWriter
    /// Recent cluster reads, valid until the next write: Describe calls far outnumber changes.
    let readCache = ClusterReadCache()

    /// Opens (creating if needed) the database file, in WAL mode with a busy timeout.
    ///
    /// `synchronous = NORMAL`: a commit is written to the WAL before `write` returns, so an
    /// acknowledged change survives the control plane's crash (`kill -9`) whole; the WAL is
    /// fsynced at each checkpoint rather than at each commit. A power loss or kernel crash can
    /// therefore lose the changes acknowledged since the last checkpoint (at most about 1,000
    /// pages of WAL), never corrupt the database or keep half a transaction. The fsync per
    /// commit was 60 % of a mutating call's time here (150 µs on this disk).
    public static func open(path: String) throws -> Store {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        return try Store(writer: pool)
    }

    /// A private in-memory database, for tests.
    public static func inMemory() throws -> Store {
        try Store(writer: DatabaseQueue())
    }

    init(writer: any DatabaseWriter) throws {
        self.writer = writer
        var migrator = DatabaseMigrator()
        for migration in Migrations.all {
            migrator.registerMigration(migration.identifier) { db in
                try db.execute(sql: migration.sql)
            }
        }
        try migrator.migrate(writer)
    }

    /// The identifiers of the migrations applied to this database, in order.
    public func appliedMigrations() throws -> [String] {
        try writer.read { db in try DatabaseMigrator().appliedIdentifiers(db).sorted() }
    }

    /// Runs `body` in one write transaction: everything it does commits together, or nothing
    /// does when it throws. Cached reads are dropped once it has committed. Database failures
    /// come out as `MemoryDBError` (a uniqueness clash as `invalidParameterValue` naming the
    /// taken name or port, anything else as an internal failure that names the database's reason).
    public func write<T>(_ body: (Transaction) throws -> T) throws -> T {
        defer { readCache.invalidate() }
        do {
            return try writer.write { db in try body(Transaction(db: db)) }
        } catch let error as DatabaseError {
            throw Self.domainError(error)
        }
    }

    /// Runs `body` with a consistent view of the database.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try writer.read(body)
        } catch let error as DatabaseError {
            throw Self.domainError(error)
        }
    }

    /// Runs raw SQL outside any model: for tests that must plant rows no code path writes.
    func execute(sql: String) throws {
        defer { readCache.invalidate() }
        try writer.write { db in try db.execute(sql: sql) }
    }

    static func domainError(_ error: DatabaseError) -> MemoryDBError {
        if error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            return MemoryDBError(.invalidParameterValue, "That name or port is already taken: \(error.message ?? "constraint failed").")
        }
        return MemoryDBError(.internalFailure, "The state database failed: \(error.message ?? "\(error.resultCode)").")
    }
}

/// One write transaction, handed out by `Store.write`. Its methods are the store's mutations,
/// grouped by resource in the `Store+*.swift` files; it also reads, so checks made inside it
/// see exactly what it will change.
public struct Transaction {
    let db: Database
}

/// A value in the database that no version of this program writes: the database was changed
/// by hand or by a newer version. Failing loudly beats guessing (a guessed `creating` would
/// restart a cluster's bootstrap).
public struct UnknownStoredValue: Error, CustomStringConvertible {
    public let column: String
    public let value: String
    public var description: String { "unknown value '\(value)' in \(column)" }

    public init(column: String, value: String) {
        self.column = column
        self.value = value
    }
}

extension RawRepresentable where RawValue == String {
    /// Decodes a stored enum value, or throws `UnknownStoredValue` naming the column.
    static func stored(_ row: Row, _ column: String, table: String) throws -> Self {
        let text: String = row[column]
        guard let value = Self(rawValue: text) else { throw UnknownStoredValue(column: "\(table).\(column)", value: text) }
        return value
    }
}
