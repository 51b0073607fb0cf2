/// One engine parameter as MemoryDB describes it, with what MemoryPlane needs to apply it.
public struct ParameterDefinition: Sendable, Hashable {
    public enum DataType: String, Sendable {
        case integer, string
    }

    public var name: String
    /// The family default; in a described group, the group's value.
    public var defaultValue: String
    public var description: String
    public var dataType: DataType
    /// AWS's grammar: `a-b`, `a-` (open range), `-` (any integer), `0,20-`, or `x,y,z`.
    public var allowedValues: String
    /// Whether a change reaches running nodes at once (CONFIG SET) or only after a restart.
    public var appliesImmediately: Bool
    public var minimumEngineVersion: String

    public init(
        _ name: String, _ defaultValue: String, _ dataType: DataType, _ allowedValues: String,
        immediate: Bool = true, since minimumEngineVersion: String = "6.2.4", _ description: String
    ) {
        self.name = name
        self.defaultValue = defaultValue
        self.dataType = dataType
        self.allowedValues = allowedValues
        self.appliesImmediately = immediate
        self.minimumEngineVersion = minimumEngineVersion
        self.description = description
    }
}

/// A built-in parameter group: immutable, one per engine family.
public struct ParameterGroupDefinition: Sendable, Hashable {
    public var name: String
    public var family: String
    public var description: String
    public var parameters: [ParameterDefinition]
}

/// The parameter families MemoryDB offers and their default groups.
public enum ParameterCatalog {
    /// `default.memorydb-redis6` and `default.memorydb-redis7`, in name order.
    public static let defaultGroups: [ParameterGroupDefinition] = [
        ParameterGroupDefinition(
            name: "default.memorydb-redis6", family: "memorydb_redis6",
            description: "Default parameter group for memorydb_redis6", parameters: redis6),
        ParameterGroupDefinition(
            name: "default.memorydb-redis7", family: "memorydb_redis7",
            description: "Default parameter group for memorydb_redis7", parameters: redis7),
    ]

    public static func defaultGroup(named name: String) -> ParameterGroupDefinition? {
        defaultGroups.first { $0.name == name }
    }

    static let yesNo = "yes,no"

    /// The memorydb_redis6 family, with AWS's defaults and allowed values.
    public static let redis6: [ParameterDefinition] = [
        ParameterDefinition("acllog-max-len", "128", .integer, "1-10000", "The maximum number of entries in the ACL log."),
        ParameterDefinition("active-defrag-cycle-max", "75", .integer, "1-75", "Maximal effort for defrag in CPU percentage."),
        ParameterDefinition("active-defrag-cycle-min", "5", .integer, "1-75", "Minimal effort for defrag in CPU percentage."),
        ParameterDefinition("active-defrag-ignore-bytes", "104857600", .integer, "1048576-", "Minimum amount of fragmentation waste to start active defrag."),
        ParameterDefinition("active-defrag-max-scan-fields", "1000", .integer, "1-1000000", "Maximum number of set/hash/zset/list fields that will be processed from the main dictionary scan."),
        ParameterDefinition("active-defrag-threshold-lower", "10", .integer, "1-100", "Minimum percentage of fragmentation to start active defrag."),
        ParameterDefinition("active-defrag-threshold-upper", "100", .integer, "1-100", "Maximum percentage of fragmentation at which we use maximum effort."),
        ParameterDefinition("active-expire-effort", "1", .integer, "1-10", "The amount of effort that Redis uses to expire keys."),
        ParameterDefinition("activedefrag", "no", .string, yesNo, "Enabled active memory defragmentation."),
        ParameterDefinition("activerehashing", "yes", .string, yesNo, immediate: false, "Apply rehashing or not."),
        ParameterDefinition("client-output-buffer-limit-normal-hard-limit", "0", .integer, "0-", "Normal client output buffer hard limit in bytes."),
        ParameterDefinition("client-output-buffer-limit-normal-soft-limit", "0", .integer, "0-", "Normal client output buffer soft limit in bytes."),
        ParameterDefinition("client-output-buffer-limit-normal-soft-seconds", "0", .integer, "0-", "Normal client output buffer soft limit in seconds."),
        ParameterDefinition("client-output-buffer-limit-pubsub-hard-limit", "33554432", .integer, "0-", "Pubsub client output buffer hard limit in bytes."),
        ParameterDefinition("client-output-buffer-limit-pubsub-soft-limit", "8388608", .integer, "0-", "Pubsub client output buffer soft limit in bytes."),
        ParameterDefinition("client-output-buffer-limit-pubsub-soft-seconds", "60", .integer, "0-", "Pubsub client output buffer soft limit in seconds."),
        ParameterDefinition("hash-max-ziplist-entries", "512", .integer, "0-", "The maximum number of hash entries in order for the dataset to be compressed."),
        ParameterDefinition("hash-max-ziplist-value", "64", .integer, "0-", "The threshold of biggest hash entries in order for the dataset to be compressed."),
        ParameterDefinition("hll-sparse-max-bytes", "3000", .integer, "1-16000", "HyperLogLog sparse representation bytes limit."),
        ParameterDefinition("lazyfree-lazy-eviction", "no", .string, yesNo, "Perform an asynchronous delete on evictions."),
        ParameterDefinition("lazyfree-lazy-expire", "no", .string, yesNo, "Perform an asynchronous delete on expired keys."),
        ParameterDefinition("lazyfree-lazy-server-del", "no", .string, yesNo, "Perform an asynchronous delete on key updates."),
        ParameterDefinition("lazyfree-lazy-user-del", "no", .string, yesNo, "Specifies whether the default behavior of DEL command acts the same as UNLINK."),
        ParameterDefinition("lfu-decay-time", "1", .integer, "0-", "The amount of time in minutes to decrement the key counter for LFU eviction policy."),
        ParameterDefinition("lfu-log-factor", "10", .integer, "1-", "The log factor for incrementing key counter for LFU eviction policy."),
        ParameterDefinition("list-compress-depth", "0", .integer, "0-", "Number of quicklist ziplist nodes from each side of the list to exclude from compression."),
        ParameterDefinition(
            "maxmemory-policy", "noeviction", .string,
            "volatile-lru,allkeys-lru,volatile-lfu,allkeys-lfu,volatile-random,allkeys-random,volatile-ttl,noeviction",
            "Max memory policy."),
        ParameterDefinition("maxmemory-samples", "3", .integer, "1-", "Max memory samples."),
        ParameterDefinition("notify-keyspace-events", "", .string, "", "The keyspace events for Redis to notify Pub/Sub clients about. By default all notifications are disabled."),
        ParameterDefinition("set-max-intset-entries", "512", .integer, "0-", "The limit in the size of the set in order for the dataset to be compressed."),
        ParameterDefinition("slowlog-log-slower-than", "10000", .integer, "-", "The execution time, in microseconds, to exceed in order for the command to get logged."),
        ParameterDefinition("slowlog-max-len", "128", .integer, "0-", "The length of the slow log. There is no limit to this length."),
        ParameterDefinition("stream-node-max-bytes", "4096", .integer, "0-", "The maximum size of a single node in a stream in bytes."),
        ParameterDefinition("stream-node-max-entries", "100", .integer, "0-", "The maximum number of items a single node in a stream can contain."),
        ParameterDefinition("tcp-keepalive", "300", .integer, "0-", "If non-zero, send ACKs every given number of seconds."),
        ParameterDefinition("timeout", "0", .integer, "0,20-", "Close connection if client is idle for a given number of seconds, or never if 0."),
        ParameterDefinition("tracking-table-max-keys", "1000000", .integer, "1-100000000", "The maximum number of keys allowed for the tracking table for client side caching."),
        ParameterDefinition("zset-max-ziplist-entries", "128", .integer, "0-", "The maximum number of sorted set entries in order for the dataset to be compressed."),
        ParameterDefinition("zset-max-ziplist-value", "64", .integer, "0-", "The threshold of biggest sorted set entries in order for the dataset to be compressed."),
    ]

    /// memorydb_redis7: the redis6 parameters plus those Redis 7 introduced.
    public static let redis7: [ParameterDefinition] = (redis6 + [
        ParameterDefinition("latency-tracking", "no", .string, yesNo, since: "7.0.0", "When set to yes tracks the per command latencies and enables exporting the percentile distribution via INFO latencystats."),
        ParameterDefinition("hash-max-listpack-entries", "512", .integer, "0-", since: "7.0.0", "The maximum number of hash entries in order for the dataset to be compressed."),
        ParameterDefinition("hash-max-listpack-value", "64", .integer, "0-", since: "7.0.0", "The threshold of biggest hash entries in order for the dataset to be compressed."),
        ParameterDefinition("zset-max-listpack-entries", "128", .integer, "0-", since: "7.0.0", "The maximum number of sorted set entries in order for the dataset to be compressed."),
        ParameterDefinition("zset-max-listpack-value", "64", .integer, "0-", since: "7.0.0", "The threshold of biggest sorted set entries in order for the dataset to be compressed."),
        ParameterDefinition("lazyfree-lazy-user-flush", "no", .string, yesNo, since: "7.0.0", "Specifies whether the default behavior of FLUSHDB and FLUSHALL is asynchronous."),
    ]).sorted { $0.name < $1.name }
}
