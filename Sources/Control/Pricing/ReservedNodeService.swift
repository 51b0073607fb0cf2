import Foundation
import Model
import Ports
import Store

/// A reserved node as callers see it, with its state by the clock.
public struct ReservedNodeView: Sendable, Equatable {
    public var record: ReservedNodeRecord
    /// `payment-pending` (its first second), `active`, then `retired` once its term has run out.
    public var state: String
    public var arn: String
}

/// Reserved-node offerings from the price list, and purchases of them (AWS's
/// DescribeReservedNodesOfferings, PurchaseReservedNodesOffering and DescribeReservedNodes).
/// A purchase changes no cluster: like AWS's, it is a billing commitment that the advisor and
/// the plans' cost estimates count against running nodes of its type.
public struct ReservedNodeService: Sendable {
    let store: Store
    let configuration: ControlConfiguration
    public let priceList: PriceList

    /// How long a purchase stays `payment-pending` before it is `active`.
    public static let paymentPendingMilliseconds: Int64 = 1000
    /// Reserved nodes one account may hold, all purchases together (AWS's default quota is per
    /// node type and region; one number keeps a local tool honest).
    public static let maxNodes = 500

    public init(store: Store, configuration: ControlConfiguration, priceList: PriceList) {
        self.store = store
        self.configuration = configuration
        self.priceList = priceList
    }

    /// The region's offerings, filtered as DescribeReservedNodesOfferings filters them.
    public func offerings(
        id: String?, nodeType: String?, duration: String?, offeringType: String?, maxResults: Int?, nextToken: String?
    ) throws -> (items: [ReservedNodesOffering], nextToken: String?) {
        let seconds = try duration.map { text throws(MemoryDBError) in try Self.durationSeconds(text) }
        if let offeringType, !ReservedNodesOffering.offeringTypes.contains(offeringType) {
            throw MemoryDBError.invalid("OfferingType must be one of \(ReservedNodesOffering.offeringTypes.joined(separator: ", ")); got '\(offeringType)'.")
        }
        var items = priceList.offerings.filter { $0.region == configuration.region }
        if let id {
            items = items.filter { $0.id == id }
            guard !items.isEmpty else { throw MemoryDBError(.reservedNodesOfferingNotFound, "Reserved nodes offering '\(id)' not found.") }
        }
        if let nodeType { items = items.filter { $0.nodeType == nodeType } }
        if let seconds { items = items.filter { $0.duration == seconds } }
        if let offeringType { items = items.filter { $0.offeringType == offeringType } }
        return try Pagination.page(items.sorted { $0.id < $1.id }, key: \.id, maxResults: maxResults, nextToken: nextToken)
    }

    /// Buys `nodeCount` nodes of an offering from now, under `reservationID` (made when not given).
    public func purchase(offeringID: String, reservationID: String?, nodeCount: Int?, tags: [Tag]) throws -> ReservedNodeView {
        guard let offering = priceList.offerings.first(where: { $0.id == offeringID && $0.region == configuration.region }) else {
            throw MemoryDBError(.reservedNodesOfferingNotFound, "Reserved nodes offering '\(offeringID)' not found.")
        }
        let count = nodeCount ?? 1
        guard count >= 1 else { throw MemoryDBError.invalid("NodeCount must be at least 1; got \(count).") }
        let id = try reservationID.map { try ResourceName.normalise($0, field: "reservationId", maxLength: 255) } ?? "ri-\(UUID().uuidString.lowercased())"
        try Tag.validate(tags)
        let now = configuration.clock.nowMilliseconds
        let record = ReservedNodeRecord(
            id: id, offeringID: offering.id, nodeType: offering.nodeType, startTime: now, duration: offering.duration, fixedPrice: offering.fixedPrice,
            recurringHourly: offering.recurringHourly, nodeCount: count, offeringType: offering.offeringType)
        try store.write { transaction in
            guard try transaction.reservedNode(id: id) == nil else {
                throw MemoryDBError(.reservedNodeAlreadyExists, "A reserved node with reservation id '\(id)' already exists.")
            }
            let held = try transaction.reservedNodes().filter { state(of: $0, at: now) != "retired" }.map(\.nodeCount).reduce(0, +)
            guard held + count <= Self.maxNodes else {
                throw MemoryDBError(.reservedNodeQuotaExceeded, "This account holds \(held) reserved nodes; \(count) more would pass the quota of \(Self.maxNodes).")
            }
            try transaction.insert(record)
            try TagService.attach(tags, to: arn(id), in: transaction)
        }
        return view(record, at: now)
    }

    /// Purchases, filtered as DescribeReservedNodes filters them.
    public func reservedNodes(
        reservationID: String?, offeringID: String?, nodeType: String?, duration: String?, offeringType: String?, maxResults: Int?, nextToken: String?
    ) throws -> (items: [ReservedNodeView], nextToken: String?) {
        let seconds = try duration.map { text throws(MemoryDBError) in try Self.durationSeconds(text) }
        var records = try store.reservedNodes()
        if let reservationID {
            records = records.filter { $0.id == reservationID }
            guard !records.isEmpty else { throw MemoryDBError(.reservedNodeNotFound, "Reserved node '\(reservationID)' not found.") }
        }
        if let offeringID { records = records.filter { $0.offeringID == offeringID } }
        if let nodeType { records = records.filter { $0.nodeType == nodeType } }
        if let seconds { records = records.filter { $0.duration == seconds } }
        if let offeringType { records = records.filter { $0.offeringType == offeringType } }
        let now = configuration.clock.nowMilliseconds
        let page = try Pagination.page(records, key: \.id, maxResults: maxResults, nextToken: nextToken)
        return (page.items.map { view($0, at: now) }, page.nextToken)
    }

    /// Nodes of each type covered by reservations active now.
    public func activeReservedNodes() throws -> [String: Int] {
        let now = configuration.clock.nowMilliseconds
        var counts: [String: Int] = [:]
        for record in try store.reservedNodes() where state(of: record, at: now) == "active" { counts[record.nodeType, default: 0] += record.nodeCount }
        return counts
    }

    func state(of record: ReservedNodeRecord, at now: Int64) -> String {
        if now < record.startTime + Self.paymentPendingMilliseconds { return "payment-pending" }
        if now >= record.startTime + Int64(record.duration) * 1000 { return "retired" }
        return "active"
    }

    func view(_ record: ReservedNodeRecord, at now: Int64) -> ReservedNodeView {
        ReservedNodeView(record: record, state: state(of: record, at: now), arn: arn(record.id))
    }

    func arn(_ id: String) -> String { configuration.arn(.reservednode, id) }

    /// `1` or `3` (years), or the seconds they are, as AWS takes Duration.
    static func durationSeconds(_ text: String) throws(MemoryDBError) -> Int {
        switch text {
        case "1", "31536000": return 31_536_000
        case "3", "94608000": return 94_608_000
        default: throw MemoryDBError.invalid("Duration must be 1 or 3 (years), or 31536000 or 94608000 (seconds); got '\(text)'.")
        }
    }
}
