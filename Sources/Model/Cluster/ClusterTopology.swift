/// The shape MemoryDB gives a cluster: shard and node names, slots, and availability zones.
public enum ClusterTopology {
    /// "0001": MemoryDB names shards by their 1-based index, four digits wide.
    public static func shardName(_ shardIndex: Int) -> String { zeroPadded(shardIndex, width: 4) }

    /// "demo-0001-001": cluster, shard and 1-based node index within the shard.
    public static func nodeName(cluster: String, shardIndex: Int, nodeIndex: Int) -> String {
        "\(cluster)-\(shardName(shardIndex))-\(zeroPadded(nodeIndex, width: 3))"
    }

    /// Places a node in an availability zone so that primaries of neighbouring shards and a
    /// primary's replicas land in different zones where there are enough zones.
    public static func availabilityZone(shardIndex: Int, nodeIndex: Int, zones: [String]) -> String {
        precondition(!zones.isEmpty)
        return zones[(shardIndex - 1 + nodeIndex - 1) % zones.count]
    }

    /// The three zone labels of a region: `us-east-1a`, `us-east-1b`, `us-east-1c`.
    public static func zones(region: String) -> [String] {
        ["a", "b", "c"].map { region + $0 }
    }

    private static func zeroPadded(_ value: Int, width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
