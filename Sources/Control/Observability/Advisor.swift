import Foundation
import Model
import Ports

/// A best-practice finding: what rule, how serious, the evidence, and the change that fixes it
/// (as an API call and as a stack change).
public struct Finding: Sendable, Equatable, Codable {
    public enum Severity: String, Sendable, Codable, Comparable {
        case high, medium, low
        var rank: Int { self == .high ? 0 : self == .medium ? 1 : 2 }
        public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    }

    public var cluster: String
    public var rule: String
    public var severity: Severity
    /// What it is about: the cluster, a shard, a node, a user.
    public var resource: String
    public var evidence: String
    public var fix: String
    /// The API call that fixes it.
    public var api: String
    /// The stack change that fixes it.
    public var stack: String
}

/// What the advisor knows about one cluster; gathered by `AdvisorService`, judged by `Advisor`.
public struct ClusterFacts: Sendable {
    public struct Node: Sendable {
        public var name, zone, role: String
        public init(name: String, zone: String, role: String) {
            self.name = name
            self.zone = zone
            self.role = role
        }
    }
    public struct Shard: Sendable {
        public var name: String
        public var nodes: [Node]
        public init(name: String, nodes: [Node]) {
            self.name = name
            self.nodes = nodes
        }
    }

    public var name: String
    public var nodeType: String
    public var tlsEnabled: Bool
    public var aclName: String
    public var snapshotRetentionLimit: Int
    public var tags: [Tag]
    public var shards: [Shard]
    /// The ACL's users and their access strings.
    public var users: [String: String] = [:]
    /// Whether the cluster's (custom) ACL includes the `default` user.
    public var defaultUserInACL = false
    public var maxmemoryPolicy: String = "noeviction"
    /// Whether the cluster has snapshots, and when one was last verified (ms).
    public var hasSnapshots = false
    public var lastVerifiedAt: Int64?
    /// Latest values per node (CloudWatch names).
    public var values: [String: [String: Double]] = [:]
    /// DatabaseMemoryUsagePercentage per node over the metrics history.
    public var memoryHistory: [String: [Double]] = [:]
    /// Dangerous commands each node ran in the last few collections.
    public var recentDangerousCommands: [String: Set<String>] = [:]
    /// Sampled keys of at least `Advisor.bigKeyBytes`, per node.
    public var bigKeys: [String: [(key: String, bytes: Int64)]] = [:]
    public var now: Int64 = 0
    /// Money, from the price list: this node type's on-demand rate, the cheapest 1-year
    /// reservation's effective rate, and the next smaller type of the family with its rate.
    public var hourly: Double?
    public var reservedHourly: Double?
    public var smaller: (nodeType: String, hourly: Double)?
    /// This cluster's nodes that no active reservation of its node type covers (reservations go
    /// to clusters in name order).
    public var unreservedNodes = 0

    public init(name: String, nodeType: String, tlsEnabled: Bool, aclName: String, snapshotRetentionLimit: Int, tags: [Tag], shards: [Shard]) {
        self.name = name
        self.nodeType = nodeType
        self.tlsEnabled = tlsEnabled
        self.aclName = aclName
        self.snapshotRetentionLimit = snapshotRetentionLimit
        self.tags = tags
        self.shards = shards
    }

    var isProduction: Bool {
        tags.contains { tag in
            ["environment", "env", "stage"].contains(tag.key.lowercased()) && ["production", "prod"].contains(tag.value.lowercased())
        }
    }
}

/// The MemoryDB operations guide's golden rules as checks. Pure.
public enum Advisor {
    public static let dangerousCommands: Set<String> = ["keys", "flushall", "flushdb", "save"]
    public static let bigKeyBytes: Int64 = 1 << 20
    public static let verificationAgeDays = 30

    public static func findings(_ facts: ClusterFacts) -> [Finding] {
        var list = FindingList(cluster: facts.name)
        for rules in [availability, access, dataSafety, nodeHealth, skew, sizing, reservations] { rules(facts, &list) }
        return list.found.sorted { $0.severity == $1.severity ? $0.rule < $1.rule : $0.severity < $1.severity }
    }

    /// Findings as the rules find them, for one cluster.
    struct FindingList {
        let cluster: String
        var found: [Finding] = []

        mutating func add(_ rule: String, _ severity: Finding.Severity, _ resource: String, _ evidence: String, fix: String, api: String, stack: String) {
            found.append(Finding(cluster: cluster, rule: rule, severity: severity, resource: resource, evidence: evidence, fix: fix, api: api, stack: stack))
        }
    }

    /// Shards without a replica, or with every node in one zone.
    static func availability(_ facts: ClusterFacts, _ list: inout FindingList) {
        let cluster = facts.name
        for shard in facts.shards {
            if shard.nodes.count == 1 {
                list.add(
                    "shard-without-replica", .high, "shard \(shard.name)",
                    "Shard \(shard.name) has one node (\(shard.nodes[0].name)) and no replica: while it restarts the shard serves nothing, and a lost node takes its data back to the last snapshot.",
                    fix: "Give every shard at least one replica in another zone.",
                    api: "UpdateCluster --cluster-name \(cluster) --replica-configuration ReplicaCount=1 (REST: PATCH /v1/clusters/\(cluster) {\"numReplicasPerShard\": 1})",
                    stack: "numReplicasPerShard: 1")
            } else if Set(shard.nodes.map(\.zone)).count == 1 {
                list.add(
                    "shard-in-one-zone", .high, "shard \(shard.name)",
                    "Every node of shard \(shard.name) is in \(shard.nodes[0].zone): losing that zone loses the shard.",
                    fix: "Place the cluster in a subnet group whose subnets span several zones (create-only: the cluster is created again).",
                    api: "CreateSubnetGroup with subnets in two or more zones, then CreateCluster --subnet-group-name <it>",
                    stack: "subnetGroupName: <a group spanning zones> (replaces the cluster)")
            }
        }
    }

    /// TLS, the default user and superusers.
    static func access(_ facts: ClusterFacts, _ list: inout FindingList) {
        let cluster = facts.name
        if !facts.tlsEnabled {
            list.add(
                "tls-off", .high, "cluster", "TLS is off: clients send data and passwords in clear text.",
                fix: "Create the cluster with TLS (TLSEnabled is create-only) and a user ACL.",
                api: "CreateCluster --tls-enabled --acl-name <acl> (and delete this one)", stack: "tlsEnabled: true (replaces the cluster)")
        }
        if facts.aclName == BuiltinResources.openAccessACLName {
            list.add(
                "default-user-open", .medium, "acl open-access",
                "The cluster uses ACL open-access: the default user needs no password and may run every command on every key.",
                fix: "Create users with passwords and least-privilege access strings, put them in an ACL, and give the cluster that ACL (needs TLS).",
                api: "CreateUser, CreateACL, then UpdateCluster --cluster-name \(cluster) --acl-name <acl>", stack: "users, acls, and aclName: <acl>")
        }
        if facts.defaultUserInACL && facts.aclName != BuiltinResources.openAccessACLName {
            list.add(
                "default-user-enabled", .high, "acl \(facts.aclName)",
                "ACL \(facts.aclName) includes the default user: anyone reaching the cluster may connect without a password and run every command.",
                fix: "Remove the default user from the ACL; give each client its own user.",
                api: "UpdateACL --acl-name \(facts.aclName) --user-names-to-remove default", stack: "acls[].userNames without default")
        }
        if facts.isProduction {
            for (user, access) in facts.users.sorted(by: { $0.key < $1.key }) {
                let tokens = Set(access.split(separator: " ").map(String.init))
                if tokens.contains("+@all") && (tokens.contains("~*") || tokens.contains("allkeys")) {
                    list.add(
                        "superuser-in-production", .high, "user \(user)",
                        "User \(user) has '+@all ~*' on a cluster tagged production: it can run any command, FLUSHALL included, on every key.",
                        fix: "Narrow the user to the commands and key patterns it needs (e.g. '+@read +@write -@dangerous ~app:*').",
                        api: "UpdateUser --user-name \(user) --access-string \"on ~app:* +@read +@write -@dangerous\"",
                        stack: "users[].accessString: \"on ~app:* +@read +@write -@dangerous\"")
                }
            }
        }
    }

    /// Automatic snapshots and restores that prove them.
    static func dataSafety(_ facts: ClusterFacts, _ list: inout FindingList) {
        let cluster = facts.name
        if facts.snapshotRetentionLimit == 0 {
            list.add(
                "no-snapshot-retention", .medium, "cluster", "SnapshotRetentionLimit is 0: no automatic snapshots are taken.",
                fix: "Keep automatic snapshots for a week or more.",
                api: "UpdateCluster --cluster-name \(cluster) --snapshot-retention-limit 7 (REST: PATCH {\"snapshotRetentionLimit\": 7})",
                stack: "snapshotRetentionLimit: 7")
        }
        if facts.hasSnapshots {
            let cutoff = facts.now - Int64(verificationAgeDays) * 86_400_000
            if (facts.lastVerifiedAt ?? 0) < cutoff {
                list.add(
                    "restore-not-verified", .low, "snapshots",
                    facts.lastVerifiedAt == nil
                        ? "No snapshot of this cluster has ever been verified by a restore."
                        : "No snapshot of this cluster has been verified by a restore in \(verificationAgeDays) days.",
                    fix: "Verify the newest snapshot by restoring it (a scratch restore compares every key).",
                    api: "POST /v1/snapshots/<newest>/verify", stack: "(no stack field: run the verification from CI)")
            }
        }
    }

    /// Each node: memory under noeviction, dangerous commands, big keys.
    static func nodeHealth(_ facts: ClusterFacts, _ list: inout FindingList) {
        let cluster = facts.name
        for (node, values) in facts.values.sorted(by: { $0.key < $1.key }) {
            if let usage = values["DatabaseMemoryUsagePercentage"], usage > 80, facts.maxmemoryPolicy == "noeviction" {
                list.add(
                    "memory-full-noeviction", .high, "node \(node)",
                    String(format: "Node %@ uses %.1f %% of its memory with maxmemory-policy noeviction: writes fail once it is full.", node, usage),
                    fix: "Scale up the node type, add shards, or choose an eviction policy if the data is a cache.",
                    api: "UpdateCluster --cluster-name \(cluster) --node-type <larger> or --shard-configuration ShardCount=<more>",
                    stack: "nodeType: <larger> or numShards: <more>")
            }
            if let commands = facts.recentDangerousCommands[node], !commands.isEmpty {
                let names = commands.sorted().map { $0.uppercased() }.joined(separator: ", ")
                list.add(
                    "dangerous-commands", .medium, "node \(node)",
                    "Node \(node) ran \(names) recently (INFO commandstats): they block the node (KEYS, SAVE) or erase data (FLUSHALL, FLUSHDB).",
                    fix: "Use SCAN instead of KEYS, BGSAVE or snapshots instead of SAVE, and deny @dangerous to client users.",
                    api: "UpdateUser --user-name <user> --access-string \"... -@dangerous\"", stack: "users[].accessString: \"... -@dangerous\"")
            }
            for big in facts.bigKeys[node] ?? [] {
                list.add(
                    "big-key", .medium, "node \(node)",
                    "Key '\(big.key)' on node \(node) uses \(big.bytes / 1024) KiB (sampled with MEMORY USAGE): big keys make latency and slot moves uneven.",
                    fix: "Split the value over several keys (e.g. by hash field ranges).", api: "(application change)", stack: "(application change)")
            }
        }
    }

    /// Keys and memory uneven between shards (from each shard's primary).
    static func skew(_ facts: ClusterFacts, _ list: inout FindingList) {
        let primaries = facts.shards.compactMap { shard in shard.nodes.first { $0.role == "primary" }.flatMap { facts.values[$0.name] }.map { (shard.name, $0) } }
        if primaries.count >= 2 {
            for (metric, floor, label) in [("CurrItems", 1000.0, "keys"), ("BytesUsedForMemoryDB", Double(64 << 20), "memory")] {
                let amounts = primaries.compactMap { entry in entry.1[metric].map { (entry.0, $0) } }
                guard let high = amounts.max(by: { $0.1 < $1.1 }), let low = amounts.min(by: { $0.1 < $1.1 }), high.1 >= floor,
                    (high.1 - low.1) / high.1 > 0.2
                else { continue }
                list.add(
                    "shard-skew", .medium, "shards \(low.0), \(high.0)",
                    String(format: "Shard %@ holds %.0f%% more %@ than shard %@ (%.0f against %.0f): one shard will fill or saturate first.", high.0,
                           (high.1 - low.1) / max(low.1, 1) * 100, label, low.0, high.1, low.1),
                    fix: "Spread hot or big key groups over more hash slots (avoid one {hashtag} for much of the data), then rebalance.",
                    api: "UpdateCluster --shard-configuration ShardCount=<n> (rebalances slots)", stack: "numShards: <n>")
            }
        }
    }

    /// Right-sizing from the memory history (at least three collections).
    static func sizing(_ facts: ClusterFacts, _ list: inout FindingList) {
        let cluster = facts.name
        let histories = facts.memoryHistory.values.filter { $0.count >= 3 }
        if !histories.isEmpty {
            let smaller = NodeType.catalog.values.filter { $0.memoryBytes < (NodeType.catalog[facts.nodeType]?.memoryBytes ?? 0) && !$0.requiresDataTiering }
            if histories.allSatisfy({ $0.allSatisfy { $0 < 20 } }), !smaller.isEmpty {
                var money = ""
                if let hourly = facts.hourly, let smaller = facts.smaller {
                    let nodes = Double(facts.shards.map(\.nodes.count).reduce(0, +))
                    money = String(
                        format: " Its %d nodes cost $%.2f a month on demand; on %@ they would cost $%.2f (saves $%.2f a month).", Int(nodes),
                        hourly * nodes * PriceList.hoursPerMonth, smaller.nodeType, smaller.hourly * nodes * PriceList.hoursPerMonth,
                        (hourly - smaller.hourly) * nodes * PriceList.hoursPerMonth)
                }
                list.add(
                    "right-size-down", .low, "cluster",
                    "Every node stayed under 20 % of its memory over the last \(histories.map(\.count).max() ?? 0) collections on \(facts.nodeType).\(money)",
                    fix: "A smaller node type would do (ListAllowedNodeTypeUpdates lists those the data fits).",
                    api: "ListAllowedNodeTypeUpdates --cluster-name \(cluster), then UpdateCluster --node-type <smaller>", stack: "nodeType: <smaller>")
            }
            if histories.contains(where: { $0.allSatisfy { $0 > 80 } }) {
                list.add(
                    "right-size-up", .medium, "cluster",
                    "A node stayed above 80 % of its memory over the last collections on \(facts.nodeType).",
                    fix: "Move to a larger node type or add shards.", api: "UpdateCluster --cluster-name \(cluster) --node-type <larger>",
                    stack: "nodeType: <larger>")
            }
        }
    }

    /// Nodes running on demand where a reservation of their type would cost less.
    static func reservations(_ facts: ClusterFacts, _ list: inout FindingList) {
        guard facts.unreservedNodes > 0, let hourly = facts.hourly, let reserved = facts.reservedHourly, reserved < hourly else { return }
        let nodes = Double(facts.unreservedNodes)
        let month = PriceList.hoursPerMonth
        list.add(
            "unreserved-nodes", .low, "cluster",
            String(
                format: "%d %@ node%@ run%@ on demand with no reservation: $%.2f a month; a 1-year reservation costs $%.2f a month (saves $%.2f a month, $%.2f a year).",
                facts.unreservedNodes, facts.nodeType, facts.unreservedNodes == 1 ? "" : "s", facts.unreservedNodes == 1 ? "s" : "",
                hourly * nodes * month, reserved * nodes * month, (hourly - reserved) * nodes * month, (hourly - reserved) * nodes * 8760),
            fix: "Reserve the nodes that run all the time.",
            api: "DescribeReservedNodesOfferings --node-type \(facts.nodeType) --duration 1, then PurchaseReservedNodesOffering --node-count \(facts.unreservedNodes)",
            stack: "(a purchase, not a stack change)")
    }
}
