import Store

/// Reads the event log for callers.
public struct EventService: Sendable {
    private let store: Store

    public init(store: Store) { self.store = store }

    /// Events newest first, at most 100, optionally for one source.
    public func events(sourceName: String?) throws -> [EventRecord] {
        try store.events(sourceName: sourceName?.lowercased())
    }
}
