import API
import Control
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Model
import Ports
import PriceLists
import Runtime
import Store
import Testing
import Logging

/// Reserved nodes from the bundled price list: offerings, a purchase through its states by an
/// injected clock, and the faults AWS names.
@Suite struct ReservedNodeTests {
    @Test func theBundledPriceListReadsAndNamesItsSource() throws {
        let list = try PriceListFile.parse(Data(BundledPriceList.bytes), name: BundledPriceList.name)
        #expect(list.source.contains("ILLUSTRATIVE") && list.source.contains("pricing.us-east-1.amazonaws.com"))
        #expect(list.hourly("db.r7g.large", region: "us-east-1") == 0.4172)
        #expect(list.monthly("db.r7g.large", nodes: 4, region: "us-east-1") == 0.4172 * 4 * 730)
        let r7g = list.offerings.filter { $0.nodeType == "db.r7g.large" }
        #expect(r7g.count == 6)
        #expect(Set(r7g.map(\.duration)) == [31_536_000, 94_608_000])
        #expect(r7g.allSatisfy { $0.effectiveHourly < 0.4172 })
        #expect(list.offerings.allSatisfy { !$0.nodeType.hasPrefix("db.t4g") })
        #expect(throws: MemoryDBError.self) { try PriceListFile.parse(Data("{}".utf8), name: "empty.json") }
    }

    @Test func aPurchaseIsPendingThenActiveThenRetired() throws {
        let store = try Store.inMemory()
        let clock = ManualWallClock(1_800_000_000_000)
        var configuration = ControlConfiguration(engineVersion: EngineVersion(major: 7, minor: 0, patch: 15))
        configuration.clock = clock
        let list = try PriceListFile.parse(Data(BundledPriceList.bytes), name: BundledPriceList.name)
        let service = ReservedNodeService(store: store, configuration: configuration, priceList: list)
        let offering = try #require(try service.offerings(id: nil, nodeType: "db.r7g.large", duration: "1", offeringType: "No Upfront", maxResults: nil, nextToken: nil).items.first)
        let bought = try service.purchase(offeringID: offering.id, reservationID: "team-a", nodeCount: 2, tags: [])
        #expect(bought.state == "payment-pending" && bought.record.nodeCount == 2 && bought.arn.hasSuffix(":reservednode/team-a"))
        clock.advance(byMilliseconds: 1000)
        #expect(try service.reservedNodes(reservationID: "team-a", offeringID: nil, nodeType: nil, duration: nil, offeringType: nil, maxResults: nil, nextToken: nil).items.first?.state == "active")
        #expect(try service.activeReservedNodes() == ["db.r7g.large": 2])
        clock.advance(byMilliseconds: 31_536_000_000)
        #expect(try service.reservedNodes(reservationID: "team-a", offeringID: nil, nodeType: nil, duration: nil, offeringType: nil, maxResults: nil, nextToken: nil).items.first?.state == "retired")
        #expect(throws: MemoryDBError.self) { try service.purchase(offeringID: offering.id, reservationID: "team-a", nodeCount: 1, tags: []) }
        #expect(throws: MemoryDBError.self) { try service.purchase(offeringID: offering.id, reservationID: nil, nodeCount: 501, tags: []) }
        #expect(throws: MemoryDBError.self) { try service.reservedNodes(reservationID: "nope", offeringID: nil, nodeType: nil, duration: nil, offeringType: nil, maxResults: nil, nextToken: nil) }
        #expect(throws: MemoryDBError.self) { try service.offerings(id: nil, nodeType: nil, duration: "2", offeringType: nil, maxResults: nil, nextToken: nil) }
    }
}

/// A plan prices the stack's clusters from the same price list: node type × nodes × 730 hours.
@Suite struct PlanCostTests {
    @Test func aPlanOfA2x1R7gLargeStackCostsWhatThePriceListSays() async throws {
        let fixture = try RESTFixture()
        let document = """
            stack: priced
            clusters:
              - {name: priced-1, nodeType: db.r7g.large, aclName: open-access, tlsEnabled: false, numShards: 2, numReplicasPerShard: 1}
            """
        try await fixture.app.test(.router) { client in
            try await client.execute(uri: "/v1/stacks/priced?dryRun=true", method: .put, body: ByteBuffer(string: document)) { response in
                #expect(response.status == .ok)
                let cost = json(response.body)["cost"] as? [String: Any]
                let cluster = (cost?["clusters"] as? [[String: Any]])?.first
                #expect(cluster?["nodes"] as? Int == 4 && cluster?["hourly"] as? Double == 0.4172)
                let monthly = try #require(cluster?["monthly"] as? Double)
                #expect(abs(monthly - 0.4172 * 4 * 730) < 0.0001)
                #expect(cost?["monthlyNow"] as? Double == 0)
                #expect(abs((cost?["monthlyChange"] as? Double ?? 0) - monthly) < 0.0001)
                #expect((cost?["priceList"] as? String)?.contains("ILLUSTRATIVE") == true)
            }
        }
    }
}
