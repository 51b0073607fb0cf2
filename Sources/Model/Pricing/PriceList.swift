/// Node prices as a price list states them (AWS's Price List offer file, read by
/// `PriceListFile`): on-demand hourly rates and reserved-node offerings, by region and node type.
public struct PriceList: Sendable, Equatable {
    /// What the file says of itself (its `disclaimer`): where the prices come from.
    public var source: String
    /// The file's `publicationDate`.
    public var publicationDate: String
    /// USD per node-hour, by region, then node type.
    public var onDemand: [String: [String: Double]]
    public var offerings: [ReservedNodesOffering]

    public init(source: String, publicationDate: String, onDemand: [String: [String: Double]], offerings: [ReservedNodesOffering]) {
        self.source = source
        self.publicationDate = publicationDate
        self.onDemand = onDemand
        self.offerings = offerings
    }

    /// AWS's month for monthly estimates: 730 hours.
    public static let hoursPerMonth = 730.0

    /// The on-demand rate of a node type in a region; nil when the list has none.
    public func hourly(_ nodeType: String, region: String) -> Double? {
        onDemand[region]?[nodeType]
    }

    /// What `nodes` nodes of `nodeType` cost a month on demand; nil when the list has no price.
    public func monthly(_ nodeType: String, nodes: Int, region: String) -> Double? {
        hourly(nodeType, region: region).map { $0 * Double(nodes) * Self.hoursPerMonth }
    }
}

/// One reserved-node offering, in botocore's ReservedNodesOffering terms.
public struct ReservedNodesOffering: Sendable, Equatable {
    public var id: String
    public var region: String
    public var nodeType: String
    /// Seconds: 31,536,000 (1 year) or 94,608,000 (3 years).
    public var duration: Int
    /// The upfront fee, USD.
    public var fixedPrice: Double
    /// `No Upfront`, `Partial Upfront` or `All Upfront`.
    public var offeringType: String
    /// USD per hour for the term.
    public var recurringHourly: Double

    public init(id: String, region: String, nodeType: String, duration: Int, fixedPrice: Double, offeringType: String, recurringHourly: Double) {
        self.id = id
        self.region = region
        self.nodeType = nodeType
        self.duration = duration
        self.fixedPrice = fixedPrice
        self.offeringType = offeringType
        self.recurringHourly = recurringHourly
    }

    public static let offeringTypes = ["No Upfront", "Partial Upfront", "All Upfront"]

    /// The effective hourly rate over the term: the recurring charge plus the upfront fee spread.
    public var effectiveHourly: Double { recurringHourly + fixedPrice / (Double(duration) / 3600) }
}
