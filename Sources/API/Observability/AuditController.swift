import Control
import Foundation
import Hummingbird
import Model
import Store

/// REST `GET /v1/audit`: the audit trail, newest first, filtered and paginated.
struct AuditController {
    let trail: AuditTrail

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("audit", use: list)
    }

    struct Event: Encodable {
        var id: Int64
        var time, accessKeyId, sourceAddress, door, operation, resource, outcome: String
        /// The key's name, and whether its policy allowed the call (allowed, denied, unauthenticated).
        var accessKeyName, decision: String
        var httpStatus: Int
        /// The request's parameters, secrets removed, as JSON.
        var parameters: String
    }

    struct Page: Encodable {
        var events: [Event]
        var nextToken: String?
    }

    static let filters: Set<String> = ["door", "operation", "resource", "accessKeyId", "accessKeyName", "decision", "outcome", "since", "until", "maxResults", "nextToken"]

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        for (key, _) in query where !Self.filters.contains(String(key)) {
            throw MemoryDBError.invalid("Unknown filter '\(key)'; filters: \(Self.filters.sorted().joined(separator: ", ")).")
        }
        let limit = try RESTQuery.maxResults(request) ?? 100
        guard (1...1000).contains(limit) else { throw MemoryDBError.invalid("maxResults must be between 1 and 1000; got \(limit).") }
        var filter = AuditFilter(limit: limit + 1)
        if let door = query.get("door") {
            guard let parsed = AuditDoor(rawValue: door) else { throw MemoryDBError.invalid("door must be aws, rest, stack or console; got '\(door)'.") }
            filter.door = parsed
        }
        filter.operation = query.get("operation")
        filter.resource = query.get("resource")
        filter.accessKeyID = query.get("accessKeyId")
        filter.accessKeyName = query.get("accessKeyName")
        filter.decision = query.get("decision")
        filter.outcome = query.get("outcome")
        filter.since = try Self.time(query.get("since"), "since")
        filter.until = try Self.time(query.get("until"), "until")
        if let token = query.get("nextToken") {
            guard token.hasPrefix("a"), let id = Int64(token.dropFirst()), id > 0 else { throw MemoryDBError.invalid("nextToken '\(token)' is not one this server gave.") }
            filter.beforeID = id
        }
        var records = try trail.query(filter)
        var next: String?
        if records.count > limit {
            records.removeLast()
            next = records.last?.id.map { "a\($0)" }
        }
        let events = records.map { record in
            Event(
                id: record.id ?? 0, time: RESTTime.iso8601(record.time), accessKeyId: record.accessKeyID, sourceAddress: record.sourceAddress,
                door: record.door.rawValue, operation: record.operation, resource: record.resource, outcome: record.outcome,
                accessKeyName: record.accessKeyName, decision: record.decision, httpStatus: record.httpStatus,
                parameters: record.parameters)
        }
        return try JSONBody.response(Page(events: events, nextToken: next))
    }

    /// ISO-8601 (with or without fractional seconds) to milliseconds.
    static func time(_ text: String?, _ name: String) throws -> Int64? {
        guard let text else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        guard let date = formatter.date(from: text) ?? plain.date(from: text) else {
            throw MemoryDBError.invalid("\(name) must be an ISO-8601 time such as 2026-11-27T12:00:00Z; got '\(text)'.")
        }
        return Int64(date.timeIntervalSince1970 * 1000)
    }
}
