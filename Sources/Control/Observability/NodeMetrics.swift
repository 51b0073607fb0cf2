import Ports
import Foundation

/// One per-node metric: its MemoryDB CloudWatch name and the Prometheus family it is shown as.
public struct NodeMetricDefinition: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// A value now (memory, connections, lag).
        case gauge
        /// A running total since the node started (CloudWatch shows its per-period increase).
        case counter
    }

    public var cloudWatchName: String
    public var prometheusName: String
    public var kind: Kind
    public var help: String
}

/// The MemoryDB metrics a user alerts on, derived from `INFO all`, command statistics and
/// `/proc`. Pure: tested on recorded INFO output.
public enum NodeMetrics {
    /// MemoryDB's command-type metrics and the Redis ACL category each counts.
    public static let commandTypes: [(cloudWatch: String, category: String, prometheus: String)] = [
        ("GetTypeCmds", "read", "get_type_cmds"), ("SetTypeCmds", "write", "set_type_cmds"), ("KeyBasedCmds", "keyspace", "key_based_cmds"),
        ("StringBasedCmds", "string", "string_based_cmds"), ("HashBasedCmds", "hash", "hash_based_cmds"),
        ("ListBasedCmds", "list", "list_based_cmds"), ("SetBasedCmds", "set", "set_based_cmds"),
        ("SortedSetBasedCmds", "sortedset", "sorted_set_based_cmds"), ("StreamBasedCmds", "stream", "stream_based_cmds"),
        ("PubSubBasedCmds", "pubsub", "pub_sub_based_cmds"), ("EvalBasedCmds", "scripting", "eval_based_cmds"),
        ("GeoSpatialBasedCmds", "geo", "geo_spatial_based_cmds"), ("HyperLogLogBasedCmds", "hyperloglog", "hyper_log_log_based_cmds"),
        ("BitmapBasedCmds", "bitmap", "bitmap_based_cmds"),
    ]

    public static let definitions: [NodeMetricDefinition] = {
        var all: [NodeMetricDefinition] = [
            .init(cloudWatchName: "CPUUtilization", prometheusName: "memorydb_cpu_utilization_percent", kind: .gauge,
                  help: "CPU of the node's process (all threads) over the last collection interval, % of one core"),
            .init(cloudWatchName: "EngineCPUUtilization", prometheusName: "memorydb_engine_cpu_utilization_percent", kind: .gauge,
                  help: "CPU of Redis' main thread over the last collection interval, % of one core"),
            .init(cloudWatchName: "BytesUsedForMemoryDB", prometheusName: "memorydb_bytes_used_for_memorydb_bytes", kind: .gauge,
                  help: "Memory Redis has allocated for data and overhead (used_memory)"),
            .init(cloudWatchName: "DatabaseMemoryUsagePercentage", prometheusName: "memorydb_database_memory_usage_percent", kind: .gauge,
                  help: "used_memory as a percentage of maxmemory (the node type's memory)"),
            .init(cloudWatchName: "FreeableMemory", prometheusName: "memorydb_freeable_memory_bytes", kind: .gauge,
                  help: "Memory available on the host (MemAvailable in /proc/meminfo)"),
            .init(cloudWatchName: "CurrConnections", prometheusName: "memorydb_curr_connections", kind: .gauge,
                  help: "Client connections open now, the control plane's own included"),
            .init(cloudWatchName: "NewConnections", prometheusName: "memorydb_new_connections_total", kind: .counter,
                  help: "Connections accepted since the node started"),
            .init(cloudWatchName: "CurrItems", prometheusName: "memorydb_curr_items", kind: .gauge, help: "Keys in the node"),
            .init(cloudWatchName: "KeyspaceHits", prometheusName: "memorydb_keyspace_hits_total", kind: .counter, help: "Successful key lookups"),
            .init(cloudWatchName: "KeyspaceMisses", prometheusName: "memorydb_keyspace_misses_total", kind: .counter, help: "Key lookups that found nothing"),
            .init(cloudWatchName: "Evictions", prometheusName: "memorydb_evictions_total", kind: .counter, help: "Keys evicted for maxmemory"),
            .init(cloudWatchName: "Reclaimed", prometheusName: "memorydb_reclaimed_total", kind: .counter, help: "Keys removed because they expired"),
            .init(cloudWatchName: "NetworkBytesIn", prometheusName: "memorydb_network_bytes_in_total", kind: .counter, help: "Bytes read from the network"),
            .init(cloudWatchName: "NetworkBytesOut", prometheusName: "memorydb_network_bytes_out_total", kind: .counter, help: "Bytes written to the network"),
            .init(cloudWatchName: "ReplicationBytes", prometheusName: "memorydb_replication_bytes_total", kind: .counter,
                  help: "Bytes a primary has sent to its replicas (primaries only)"),
            .init(cloudWatchName: "ReplicationLag", prometheusName: "memorydb_replication_lag_seconds", kind: .gauge,
                  help: "Seconds since the replica last acknowledged its primary's stream, as the primary reports it; time since it was last seen online when it is not (replicas only)"),
            .init(cloudWatchName: "IsPrimary", prometheusName: "memorydb_is_primary", kind: .gauge, help: "1 for a primary, 0 for a replica"),
            .init(cloudWatchName: "AuthenticationFailures", prometheusName: "memorydb_authentication_failures_total", kind: .counter,
                  help: "Failed AUTH attempts (acl_access_denied_auth; on Redis 7.0 its WRONGPASS errors)"),
            .init(cloudWatchName: "CommandAuthorizationFailures", prometheusName: "memorydb_command_authorization_failures_total", kind: .counter,
                  help: "Commands refused by ACL (acl_access_denied_cmd; on Redis 7.0 the ACL LOG's command entries)"),
            .init(cloudWatchName: "KeyAuthorizationFailures", prometheusName: "memorydb_key_authorization_failures_total", kind: .counter,
                  help: "Keys refused by ACL (acl_access_denied_key; on Redis 7.0 the ACL LOG's key entries)"),
            .init(cloudWatchName: "ChannelAuthorizationFailures", prometheusName: "memorydb_channel_authorization_failures_total", kind: .counter,
                  help: "Pub/Sub channels refused by ACL (acl_access_denied_channel; on Redis 7.0 the ACL LOG's channel entries)"),
        ]
        for type in commandTypes {
            all.append(.init(cloudWatchName: type.cloudWatch, prometheusName: "memorydb_\(type.prometheus)_total", kind: .counter,
                             help: "Commands of the @\(type.category) category processed (from INFO commandstats)"))
            all.append(.init(cloudWatchName: type.cloudWatch + "Latency", prometheusName: "memorydb_\(type.prometheus)_latency_microseconds", kind: .gauge,
                             help: "Average microseconds per @\(type.category) command over the last collection interval"))
        }
        return all
    }()

    /// What a node's values depend on besides its own readings.
    public struct Context: Sendable {
        public var isPrimary: Bool
        public var hostAvailableMemory: Int64?
        /// For a replica: the lag its primary reports (or time since last seen online).
        public var replicationLag: Double?
        public var categories: [String: Set<String>]

        public init(isPrimary: Bool, hostAvailableMemory: Int64?, replicationLag: Double?, categories: [String: Set<String>]) {
            self.isPrimary = isPrimary
            self.hostAvailableMemory = hostAvailableMemory
            self.replicationLag = replicationLag
            self.categories = categories
        }
    }

    /// The node's values by CloudWatch name. Rates (CPU, latencies) need the previous sample;
    /// without one they are left out.
    public static func derive(_ sample: NodeSample, previous: NodeSample?, context: Context) -> [String: Double] {
        var values: [String: Double] = [:]
        func set(_ name: String, _ field: String) {
            if let value = sample.number(field) { values[name] = value }
        }
        let elapsed = previous.map { sample.takenAt - $0.takenAt } ?? 0
        if let previous, elapsed > 0 {
            if let cpu = sample.processCPUSeconds, let before = previous.processCPUSeconds {
                values["CPUUtilization"] = max(0, (cpu - before) / elapsed * 100)
            }
            if let main = mainThreadCPU(sample), let before = mainThreadCPU(previous) {
                values["EngineCPUUtilization"] = max(0, (main - before) / elapsed * 100)
            }
        }
        set("BytesUsedForMemoryDB", "used_memory")
        if let used = sample.number("used_memory"), let max = sample.number("maxmemory"), max > 0 {
            values["DatabaseMemoryUsagePercentage"] = used / max * 100
        }
        if let free = context.hostAvailableMemory { values["FreeableMemory"] = Double(free) }
        set("CurrConnections", "connected_clients")
        set("NewConnections", "total_connections_received")
        values["CurrItems"] = sample.keys
        set("KeyspaceHits", "keyspace_hits")
        set("KeyspaceMisses", "keyspace_misses")
        set("Evictions", "evicted_keys")
        set("Reclaimed", "expired_keys")
        set("NetworkBytesIn", "total_net_input_bytes")
        set("NetworkBytesOut", "total_net_output_bytes")
        if context.isPrimary { set("ReplicationBytes", "total_net_repl_output_bytes") }
        if !context.isPrimary, let lag = context.replicationLag { values["ReplicationLag"] = lag }
        values["IsPrimary"] = context.isPrimary ? 1 : 0
        // Redis 7.2 counts denials in INFO; 7.0 only logs them: failed AUTHs are its WRONGPASS
        // errors, the others the ACL LOG's entries by reason.
        let denials: [(String, String, String)] = [
            ("AuthenticationFailures", "acl_access_denied_auth", "auth"), ("CommandAuthorizationFailures", "acl_access_denied_cmd", "command"),
            ("KeyAuthorizationFailures", "acl_access_denied_key", "key"), ("ChannelAuthorizationFailures", "acl_access_denied_channel", "channel"),
        ]
        for (name, field, reason) in denials {
            if let value = sample.number(field) {
                values[name] = value
            } else if reason == "auth", let wrong = sample.info["errorstat_WRONGPASS"].flatMap({ NodeSample.pairs($0)["count"] }).flatMap(Double.init) {
                values[name] = wrong
            } else {
                values[name] = Double(sample.aclDenials[reason] ?? 0)
            }
        }
        for type in commandTypes {
            let now = totals(sample, category: type.category, categories: context.categories)
            values[type.cloudWatch] = Double(now.calls)
            if let previous {
                let before = totals(previous, category: type.category, categories: context.categories)
                let calls = now.calls - before.calls
                // A restart resets the counters: no latency from a negative interval.
                if calls >= 0 && now.usec >= before.usec {
                    values[type.cloudWatch + "Latency"] = calls > 0 ? Double(now.usec - before.usec) / Double(calls) : 0
                }
            }
        }
        return values
    }

    static func mainThreadCPU(_ sample: NodeSample) -> Double? {
        guard let system = sample.number("used_cpu_sys_main_thread"), let user = sample.number("used_cpu_user_main_thread") else { return nil }
        return system + user
    }

    /// Calls and microseconds of every command in a category.
    static func totals(_ sample: NodeSample, category: String, categories: [String: Set<String>]) -> CommandStat {
        var total = CommandStat(calls: 0, usec: 0)
        for (command, stat) in sample.commandStats where categories[command]?.contains(category) == true {
            total.calls += stat.calls
            total.usec += stat.usec
        }
        return total
    }
}
