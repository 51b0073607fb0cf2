import Control
import Foundation
import Hummingbird
import Model
import Store

/// REST `/v1/reserved-node-offerings` and `/v1/reserved-nodes`: AWS's reserved-node operations,
/// with prices from the server's price list.
struct ReservedNodeController {
    let service: ReservedNodeService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("reserved-node-offerings", use: offerings)
        group.get("reserved-nodes", use: list)
        group.get("reserved-nodes/:id", use: get)
        group.post("reserved-nodes", use: purchase)
    }

    struct Charge: Encodable {
        var recurringChargeAmount: Double
        var recurringChargeFrequency = "Hourly"
    }

    struct OfferingBody: Encodable {
        var reservedNodesOfferingId, nodeType, offeringType: String
        var duration: Int
        var fixedPrice: Double
        var recurringCharges: [Charge]

        init(_ offering: ReservedNodesOffering) {
            reservedNodesOfferingId = offering.id
            nodeType = offering.nodeType
            offeringType = offering.offeringType
            duration = offering.duration
            fixedPrice = offering.fixedPrice
            recurringCharges = [Charge(recurringChargeAmount: offering.recurringHourly)]
        }
    }

    struct NodeBody: Encodable {
        var reservationId, reservedNodesOfferingId, nodeType, offeringType, state, arn, startTime: String
        var duration, nodeCount: Int
        var fixedPrice: Double
        var recurringCharges: [Charge]

        init(_ view: ReservedNodeView) {
            let record = view.record
            reservationId = record.id
            reservedNodesOfferingId = record.offeringID
            nodeType = record.nodeType
            offeringType = record.offeringType
            state = view.state
            arn = view.arn
            startTime = RESTTime.iso8601(record.startTime)
            duration = record.duration
            nodeCount = record.nodeCount
            fixedPrice = record.fixedPrice
            recurringCharges = [Charge(recurringChargeAmount: record.recurringHourly)]
        }
    }

    struct PurchaseBody: Decodable {
        var reservedNodesOfferingId: String
        var reservationId: String?
        var nodeCount: Int?
        var tags: [TagBody]?
        static let fields: Set<String> = ["reservedNodesOfferingId", "reservationId", "nodeCount", "tags"]
    }

    static let filters: Set<String> = ["reservedNodesOfferingId", "nodeType", "duration", "offeringType", "maxResults", "nextToken"]

    static func checkFilters(_ request: Request, allowed: Set<String>) throws {
        for (key, _) in request.uri.queryParameters where !allowed.contains(String(key)) {
            throw MemoryDBError.invalid("Unknown filter '\(key)'; filters: \(allowed.sorted().joined(separator: ", ")).")
        }
    }

    @Sendable func offerings(_ request: Request, context: APIRequestContext) async throws -> Response {
        try Self.checkFilters(request, allowed: Self.filters)
        let query = request.uri.queryParameters
        let page = try service.offerings(
            id: query.get("reservedNodesOfferingId"), nodeType: query.get("nodeType"), duration: query.get("duration"),
            offeringType: query.get("offeringType"), maxResults: try RESTQuery.maxResults(request), nextToken: query.get("nextToken"))
        struct Body: Encodable {
            var reservedNodesOfferings: [OfferingBody]
            var nextToken: String?
        }
        return try JSONBody.response(Body(reservedNodesOfferings: page.items.map(OfferingBody.init), nextToken: page.nextToken))
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        try Self.checkFilters(request, allowed: Self.filters.union(["reservationId"]))
        let query = request.uri.queryParameters
        let page = try service.reservedNodes(
            reservationID: query.get("reservationId"), offeringID: query.get("reservedNodesOfferingId"), nodeType: query.get("nodeType"),
            duration: query.get("duration"), offeringType: query.get("offeringType"), maxResults: try RESTQuery.maxResults(request),
            nextToken: query.get("nextToken"))
        struct Body: Encodable {
            var reservedNodes: [NodeBody]
            var nextToken: String?
        }
        return try JSONBody.response(Body(reservedNodes: page.items.map(NodeBody.init), nextToken: page.nextToken))
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let page = try service.reservedNodes(
            reservationID: id, offeringID: nil, nodeType: nil, duration: nil, offeringType: nil, maxResults: nil, nextToken: nil)
        return try JSONBody.response(NodeBody(page.items[0]))
    }

    /// PurchaseReservedNodesOffering: 201 with the reservation, `payment-pending` for its first second.
    @Sendable func purchase(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(PurchaseBody.self, from: request, context: context, allowedFields: PurchaseBody.fields)
        let node = try service.purchase(
            offeringID: body.reservedNodesOfferingId, reservationID: body.reservationId, nodeCount: body.nodeCount,
            tags: (body.tags ?? []).map(\.tag))
        return try JSONBody.response(NodeBody(node), status: .created)
    }
}
