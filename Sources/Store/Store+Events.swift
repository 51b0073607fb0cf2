import GRDB
import Model

// Events: what happened to each resource, newest first.

extension Store {
    /// Records one event on its own (for changes that have nothing else to write).
    public func addEvent(_ event: EventRecord) throws {
        try write { transaction in try transaction.record(event) }
    }

    /// Events newest first, optionally for one source, at most `limit`.
    public func events(sourceName: String? = nil, since: Int64 = 0, limit: Int = 100) throws -> [EventRecord] {
        try read { db in
            var request = EventRecord.filter(EventRecord.Columns.createdAt >= since)
            if let sourceName { request = request.filter(EventRecord.Columns.sourceName == sourceName) }
            return try request.order(EventRecord.Columns.id.desc).limit(limit).fetchAll(db)
        }
    }

    /// Events in a time window (milliseconds), newest first, optionally for one source or type.
    public func events(sourceName: String?, sourceType: EventSourceType?, from start: Int64, to end: Int64) throws -> [EventRecord] {
        try read { db in
            var request = EventRecord.filter(EventRecord.Columns.createdAt >= start && EventRecord.Columns.createdAt <= end)
            if let sourceName { request = request.filter(EventRecord.Columns.sourceName == sourceName) }
            if let sourceType { request = request.filter(EventRecord.Columns.sourceType == sourceType) }
            return try request.order(EventRecord.Columns.id.desc).fetchAll(db)
        }
    }
}

extension Transaction {
    /// Records an event as part of this transaction's change.
    public func record(_ event: EventRecord) throws {
        var event = event
        try event.insert(db)
    }
}
