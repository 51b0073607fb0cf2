import Foundation
import Model
import Store
import Ports

/// An event as the doors present it.
public struct EventView: Sendable, Equatable {
    public var sourceName: String
    public var sourceType: String
    public var message: String
    /// Milliseconds since 1970.
    public var date: Int64
}

/// Reads the event log for callers.
public struct EventService: Sendable {
    public static let sourceTypes = Set(EventSourceType.allCases.map(\.rawValue))
    /// MemoryDB keeps events for 14 days.
    public static let maxDurationMinutes = 20160

    private let store: Store

    /// "Now", for windows given as a duration back from it.
    let clock: any WallClock

    public init(store: Store, clock: any WallClock = SystemWallClock()) {
        self.store = store
        self.clock = clock
    }

    /// Events newest first, at most 100, optionally for one source.
    public func events(sourceName: String?) throws -> [EventRecord] {
        try store.events(sourceName: sourceName?.lowercased())
    }

    /// DescribeEvents: by source and time (the last hour unless told otherwise), newest first
    /// as on AWS.
    ///
    /// `startTime`/`endTime` are seconds since 1970; `duration` is minutes back from the end.
    public func describeEvents(
        sourceName: String?, sourceType: String?, startTime: Double?, endTime: Double?, duration: Int?,
        maxResults: Int?, nextToken: String?
    ) throws -> (items: [EventView], nextToken: String?) {
        let type = try sourceType.map { given throws(MemoryDBError) in
            guard let type = EventSourceType(rawValue: given) else {
                throw MemoryDBError.invalid("SourceType must be one of \(Self.sourceTypes.sorted().joined(separator: ", ")); got '\(given)'.")
            }
            return type
        }
        if let duration, !(0...Self.maxDurationMinutes).contains(duration) {
            throw MemoryDBError.invalid("Duration must be between 0 and \(Self.maxDurationMinutes) minutes; got \(duration).")
        }
        let nowMillis = clock.nowMilliseconds
        let end = endTime.map { Int64($0 * 1000) } ?? nowMillis
        let start: Int64
        if let startTime {
            guard duration == nil else {
                throw MemoryDBError(.invalidParameterCombination, "Give StartTime or Duration, not both.")
            }
            start = Int64(startTime * 1000)
        } else {
            start = end - Int64(duration ?? 60) * 60_000
        }
        guard start <= end else { throw MemoryDBError.invalid("StartTime must not be after EndTime.") }
        let events = try store.events(sourceName: sourceName?.lowercased(), sourceType: type, from: start, to: end)
        let keyed = events.map { (key: Self.key($0.id ?? 0), view: EventView(sourceName: $0.sourceName, sourceType: $0.sourceType.rawValue, message: $0.message, date: $0.createdAt)) }
        let page = try Pagination.page(keyed, key: \.key, maxResults: maxResults, nextToken: nextToken)
        return (page.items.map(\.view), page.nextToken)
    }

    /// Event ids turned into keys whose text order is newest first (pages run in key order).
    static func key(_ id: Int64) -> String {
        let digits = String(Int64.max - id)
        return String(repeating: "0", count: max(0, 19 - digits.count)) + digits
    }
}
