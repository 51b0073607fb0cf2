import ArgumentParser
import Foundation
import NIOHTTP1

enum ReservedNodeKind: ResourceKind {
    static let name = "reserved-nodes"
    static let listKey = "reservedNodes"
    static let columns = [
        ("RESERVATION", "reservationId"), ("NODE TYPE", "nodeType"), ("COUNT", "nodeCount"), ("OFFERING", "offeringType"), ("STATE", "state"),
        ("START", "startTime"),
    ]
    static let hasGet = true
    static let verbs: Set<String> = ["list", "get"]
}

enum ReservedNodeOfferingKind: ResourceKind {
    static let name = "reserved-node-offerings"
    static let listKey = "reservedNodesOfferings"
    static let columns = [
        ("OFFERING ID", "reservedNodesOfferingId"), ("NODE TYPE", "nodeType"), ("SECONDS", "duration"), ("TYPE", "offeringType"),
        ("UPFRONT", "fixedPrice"), ("HOURLY", "recurringCharges.0.recurringChargeAmount"),
    ]
    static let verbs: Set<String> = ["list"]
}

/// `memoryplane reserved-nodes list|get|purchase`.
struct ReservedNodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reserved-nodes", abstract: "List reserved nodes and purchase offerings (prices from the server's price list).",
        subcommands: [ListResources<ReservedNodeKind>.self, GetResource<ReservedNodeKind>.self, PurchaseReservedNodes.self])
}

struct PurchaseReservedNodes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purchase", abstract: "Buy nodes of an offering (see `reserved-node-offerings list`), from now.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The offering's id.") var offeringId: String
    @Option(help: "The reservation's id (made when not given).") var reservationId: String?
    @Option(help: "How many nodes (default 1).") var nodeCount: Int?

    func run() async throws {
        try await runClient {
            var body: [String: Any] = ["reservedNodesOfferingId": offeringId]
            if let reservationId { body["reservationId"] = reservationId }
            if let nodeCount { body["nodeCount"] = nodeCount }
            let bought = try await client.api().json(.POST, "/v1/reserved-nodes", body: Array(try JSONSerialization.data(withJSONObject: body)))
            show(bought as? [String: Any] ?? [:], client)
        }
    }
}
