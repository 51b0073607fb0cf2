/// The objects every MemoryDB account has from the start; they cannot be deleted or modified.
public enum BuiltinResources {
    /// User `default`: full access without a password, in ACL `open-access`.
    public static let defaultUserName = "default"
    public static let defaultUserAccessString = "on ~* &* +@all"
    public static let defaultUserMinimumEngineVersion = "6.0"

    /// ACL `open-access`: holds only `default`; the one ACL a cluster without TLS may use.
    public static let openAccessACLName = "open-access"
    public static let openAccessMinimumEngineVersion = "6.2"

    /// Subnet group `default`, one subnet per availability zone of the region.
    public static let defaultSubnetGroupName = "default"

    /// The VPC every subnet group is in, and its default security group: what a cluster created
    /// without SecurityGroupIds reports, as AWS reports the VPC's default group.
    public static let vpcID = "vpc-memoryplane"
    public static let defaultSecurityGroupID = "sg-memoryplane"

    /// A local stand-in for a VPC subnet: a label pinned to an availability zone.
    public struct Subnet: Sendable, Hashable {
        public var identifier: String
        public var availabilityZone: String

        public init(identifier: String, availabilityZone: String) {
            self.identifier = identifier
            self.availabilityZone = availabilityZone
        }
    }

    /// Where a subnet of a custom group lives: the zone its identifier names
    /// (`subnet-us-east-1b...`), or else a zone chosen from the identifier, the same every time.
    public static func availabilityZone(ofSubnet identifier: String, region: String) -> String {
        let zones = ClusterTopology.zones(region: region)
        if let named = zones.first(where: { identifier.contains($0) }) { return named }
        var hash: UInt32 = 2_166_136_261
        for byte in identifier.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return zones[Int(hash % UInt32(zones.count))]
    }

    /// Checks a subnet identifier: `subnet-` and then letters, digits and hyphens.
    public static func validateSubnetIdentifier(_ identifier: String) throws(MemoryDBError) {
        let body = identifier.dropFirst("subnet-".count)
        guard identifier.hasPrefix("subnet-"), !body.isEmpty, identifier.count <= 255,
            body.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        else {
            throw MemoryDBError(.invalidSubnet, "'\(identifier)' is not a subnet identifier (subnet- followed by letters, digits and hyphens).")
        }
    }

    public static func defaultSubnets(region: String) -> [Subnet] {
        ClusterTopology.zones(region: region).map { Subnet(identifier: "subnet-\($0)", availabilityZone: $0) }
    }
}
