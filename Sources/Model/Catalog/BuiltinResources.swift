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

    /// A local stand-in for a VPC subnet: a label pinned to an availability zone.
    public struct Subnet: Sendable, Hashable {
        public var identifier: String
        public var availabilityZone: String
    }

    public static func defaultSubnets(region: String) -> [Subnet] {
        ClusterTopology.zones(region: region).map { Subnet(identifier: "subnet-\($0)", availabilityZone: $0) }
    }
}
