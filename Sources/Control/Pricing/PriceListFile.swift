import Crypto
import Foundation
import Model

/// Reads AWS's Price List offer file for MemoryDB (`products`, `terms.OnDemand`,
/// `terms.Reserved`) into a `PriceList`. Node products are those with an `instanceType`; the
/// hourly dimension (`unit` Hrs) is the rate, the `Quantity` one a reservation's upfront fee.
public enum PriceListFile {
    public static func parse(_ data: Data, name: String) throws(MemoryDBError) -> PriceList {
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw MemoryDBError.invalid("price list \(name): not a JSON object (an AWS Price List offer file is expected)")
        }
        guard let products = root["products"] as? [String: [String: Any]], let terms = root["terms"] as? [String: Any] else {
            throw MemoryDBError.invalid("price list \(name): no products and terms: not an AWS Price List offer file")
        }
        var nodes: [String: (region: String, nodeType: String)] = [:]
        for (sku, product) in products {
            guard let attributes = product["attributes"] as? [String: String], let nodeType = attributes["instanceType"],
                let region = attributes["regionCode"]
            else { continue }
            nodes[sku] = (region, nodeType)
        }
        var onDemand: [String: [String: Double]] = [:]
        for (sku, offers) in (terms["OnDemand"] as? [String: [String: [String: Any]]]) ?? [:] {
            guard let node = nodes[sku] else { continue }
            for offer in offers.values {
                if let hourly = dimensions(offer).hourly { onDemand[node.region, default: [:]][node.nodeType] = hourly }
            }
        }
        var offerings: [ReservedNodesOffering] = []
        for (sku, offers) in (terms["Reserved"] as? [String: [String: [String: Any]]]) ?? [:] {
            guard let node = nodes[sku] else { continue }
            for (code, offer) in offers {
                let attributes = offer["termAttributes"] as? [String: String] ?? [:]
                guard let lease = attributes["LeaseContractLength"], let years = Int(lease.prefix { $0.isNumber }), [1, 3].contains(years),
                    let option = attributes["PurchaseOption"], ReservedNodesOffering.offeringTypes.contains(option)
                else { continue }
                let prices = dimensions(offer)
                offerings.append(
                    ReservedNodesOffering(
                        id: offeringID(code), region: node.region, nodeType: node.nodeType, duration: years * 31_536_000,
                        fixedPrice: prices.upfront ?? 0, offeringType: option, recurringHourly: prices.hourly ?? 0))
            }
        }
        guard !onDemand.isEmpty else { throw MemoryDBError.invalid("price list \(name): no node has an on-demand price") }
        offerings.sort { ($0.region, $0.nodeType, $0.duration, $0.offeringType) < ($1.region, $1.nodeType, $1.duration, $1.offeringType) }
        return PriceList(
            source: root["disclaimer"] as? String ?? name, publicationDate: root["publicationDate"] as? String ?? "", onDemand: onDemand,
            offerings: offerings)
    }

    static func dimensions(_ offer: [String: Any]) -> (hourly: Double?, upfront: Double?) {
        var hourly: Double?, upfront: Double?
        for dimension in ((offer["priceDimensions"] as? [String: [String: Any]]) ?? [:]).values {
            guard let text = (dimension["pricePerUnit"] as? [String: String])?["USD"], let price = Double(text) else { continue }
            switch dimension["unit"] as? String {
            case "Hrs": hourly = price
            case "Quantity": upfront = price
            default: continue
            }
        }
        return (hourly, upfront)
    }

    /// A UUID-shaped id, the same for the same term code in every run (AWS's ids are UUIDs).
    static func offeringID(_ termCode: String) -> String {
        let hex = SHA256.hash(data: Data(termCode.utf8)).map { String(format: "%02x", $0) }.joined()
        let characters = Array(hex)
        let groups = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }
        return groups.joined(separator: "-")
    }
}
