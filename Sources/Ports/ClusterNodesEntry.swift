import Foundation
import Model

/// One line of `CLUSTER NODES`: how a node sees one member of its cluster.
public struct ClusterNodesEntry: Sendable, Equatable {
    public var id: String
    public var host: String
    public var port: Int
    public var flags: Set<String>
    /// The primary's id when this member is a replica.
    public var primaryID: String?
    public var configEpoch: Int
    public var connected: Bool
    /// Slots this member serves (open migrations `[slot->-id]` are not counted).
    public var slots: [SlotRange]
    /// Slots being moved away, with the id of the node they go to (`[slot->-id]`; only the
    /// node's own line shows them).
    public var migrating: [Int: String] = [:]
    /// Slots being moved in, with the id of the node they come from (`[slot-<-id]`).
    public var importing: [Int: String] = [:]

    public init(id: String, host: String, port: Int, flags: Set<String>, primaryID: String?, configEpoch: Int, connected: Bool, slots: [SlotRange]) {
        self.id = id
        self.host = host
        self.port = port
        self.flags = flags
        self.primaryID = primaryID
        self.configEpoch = configEpoch
        self.connected = connected
        self.slots = slots
    }

    public var isMyself: Bool { flags.contains("myself") }
    public var isPrimary: Bool { flags.contains("master") }
    /// A member still in the handshake; its id is a temporary one.
    public var inHandshake: Bool { flags.contains("handshake") || flags.contains("noaddr") }

    /// Parses the whole reply of `CLUSTER NODES`; malformed lines are skipped.
    public static func parse(_ text: String) -> [ClusterNodesEntry] {
        text.split(whereSeparator: \.isNewline).compactMap { parseLine(String($0)) }
    }

    static func parseLine(_ line: String) -> ClusterNodesEntry? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count >= 8 else { return nil }
        // "127.0.0.1:7000@17000" or "127.0.0.1:7000@17000,hostname"
        let address = fields[1].split(separator: "@").first.map(String.init) ?? ""
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            return nil
        }
        var slots: [SlotRange] = []
        var migrating: [Int: String] = [:]
        var importing: [Int: String] = [:]
        for field in fields.dropFirst(8) where field.hasPrefix("[") && field.hasSuffix("]") {
            let inner = field.dropFirst().dropLast()
            if let arrow = inner.range(of: "->-"), let slot = Int(inner[..<arrow.lowerBound]) {
                migrating[slot] = String(inner[arrow.upperBound...])
            } else if let arrow = inner.range(of: "-<-"), let slot = Int(inner[..<arrow.lowerBound]) {
                importing[slot] = String(inner[arrow.upperBound...])
            }
        }
        for field in fields.dropFirst(8) where !field.hasPrefix("[") {
            let bounds = field.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 1 {
                slots.append(SlotRange(first: bounds[0], last: bounds[0]))
            } else if bounds.count == 2, bounds[0] <= bounds[1] {
                slots.append(SlotRange(first: bounds[0], last: bounds[1]))
            }
        }
        var entry = ClusterNodesEntry(
            id: fields[0],
            host: String(address[..<colon]),
            port: port,
            flags: Set(fields[2].split(separator: ",").map(String.init)),
            primaryID: fields[3] == "-" ? nil : fields[3],
            configEpoch: Int(fields[6]) ?? 0,
            connected: fields[7] == "connected",
            slots: slots
        )
        entry.migrating = migrating
        entry.importing = importing
        return entry
    }
}

/// What one node reports about itself and its cluster, read in one pipelined exchange.
public struct NodeObservation: Sendable, Equatable {
    public var myID: String
    public var members: [ClusterNodesEntry]
    /// `cluster_state:ok` in CLUSTER INFO.
    public var clusterStateOK: Bool
    public var isPrimary: Bool
    /// For a replica: `master_link_status:up` and the initial sync finished.
    public var primaryLinkUp: Bool
    /// For a replica: a sync with its primary is under way (`master_sync_in_progress:1`), or
    /// it is connecting; nudging it again would start over.
    public var syncInProgress: Bool
    /// `master_repl_offset`: how far the replication stream has come (on a replica, how much of
    /// its primary's stream it has applied).
    public var replicationOffset: Int64
    /// `used_memory` and `maxmemory` of INFO memory, in bytes.
    public var usedMemory: Int64
    public var maxmemory: Int64?

    public init(
        myID: String, members: [ClusterNodesEntry], clusterStateOK: Bool, isPrimary: Bool, primaryLinkUp: Bool,
        syncInProgress: Bool = false, replicationOffset: Int64 = 0, usedMemory: Int64 = 0, maxmemory: Int64? = nil
    ) {
        self.usedMemory = usedMemory
        self.maxmemory = maxmemory
        self.myID = myID
        self.members = members
        self.clusterStateOK = clusterStateOK
        self.isPrimary = isPrimary
        self.primaryLinkUp = primaryLinkUp
        self.syncInProgress = syncInProgress
        self.replicationOffset = replicationOffset
    }

    /// Serves slots as a primary.
    public var servesSlots: Bool { isPrimary && !(myself?.slots.isEmpty ?? true) }

    public var myself: ClusterNodesEntry? { members.first(where: \.isMyself) }
    /// The ids of the other members this node has completed a handshake with.
    public var knownPeerIDs: Set<String> {
        Set(members.filter { !$0.isMyself && !$0.inHandshake }.map(\.id))
    }
    /// The primary this node replicates, if it is a replica.
    public var primaryID: String? { myself?.primaryID }

    /// Reads `key:value` fields from an INFO or CLUSTER INFO reply.
    public static func infoFields(_ text: String) -> [String: String] {
        InfoText.fields(text)
    }
}
