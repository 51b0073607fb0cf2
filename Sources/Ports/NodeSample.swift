import Foundation

/// One reading of a node for metrics: `INFO all`, its command statistics, and the process's
/// CPU time from `/proc`.
public struct NodeSample: Sendable, Equatable {
    /// Every `field:value` line of `INFO all` (all sections in one map; field names are unique).
    public var info: [String: String]
    /// `cmdstat_<command>` lines: calls and microseconds spent, per command (`config|get` style).
    public var commandStats: [String: CommandStat]
    /// The process's user + system CPU seconds, from `/proc/<pid>/stat`; nil if not readable.
    public var processCPUSeconds: Double?
    /// Denials in `ACL LOG` by reason (auth, command, key, channel), summing each entry's count:
    /// Redis 7.0 has no `acl_access_denied_*` fields in INFO (7.2 has).
    public var aclDenials: [String: Int64] = [:]
    /// When it was taken, seconds since 1970.
    public var takenAt: Double

    public init(info: [String: String], commandStats: [String: CommandStat], processCPUSeconds: Double?, takenAt: Double) {
        self.info = info
        self.commandStats = commandStats
        self.processCPUSeconds = processCPUSeconds
        self.takenAt = takenAt
    }

    /// Reads `INFO` text: `# Section` headers, `field:value` lines, `cmdstat_*` lines apart.
    public static func parse(info text: String, processCPUSeconds: Double?, takenAt: Double) -> NodeSample {
        var fields: [String: String] = [:]
        fields.reserveCapacity(256)
        var commands: [String: CommandStat] = [:]
        InfoText.forEachField(in: text) { name, value in
            if name.hasPrefix("cmdstat_") {
                let pairs = InfoText.pairs(value)
                commands[String(name.dropFirst("cmdstat_".count))] = CommandStat(
                    calls: Int64(pairs["calls"] ?? "") ?? 0, usec: Int64(pairs["usec"] ?? "") ?? 0)
            } else {
                fields[name] = value
            }
        }
        return NodeSample(info: fields, commandStats: commands, processCPUSeconds: processCPUSeconds, takenAt: takenAt)
    }

    /// `a=1,b=2` as a map (keyspace, replica and command lines).
    public static func pairs(_ text: String) -> [String: String] {
        InfoText.pairs(text)
    }

    public func number(_ field: String) -> Double? { info[field].flatMap(Double.init) }

    /// Keys in every database (`db0:keys=...`).
    public var keys: Double {
        info.filter { $0.key.hasPrefix("db") && $0.key.dropFirst(2).allSatisfy(\.isNumber) }
            .compactMap { Self.pairs($0.value)["keys"].flatMap(Double.init) }.reduce(0, +)
    }

    /// The replicas a primary reports (`slaveN:ip=..,port=..,state=..,offset=..,lag=..`), by port.
    public var replicas: [Int: ReplicaLink] {
        var links: [Int: ReplicaLink] = [:]
        for (field, value) in info where field.hasPrefix("slave") && field.dropFirst(5).allSatisfy(\.isNumber) {
            let pairs = Self.pairs(value)
            guard let port = pairs["port"].flatMap(Int.init) else { continue }
            links[port] = ReplicaLink(
                state: pairs["state"] ?? "", offset: Int64(pairs["offset"] ?? "") ?? 0, lagSeconds: Double(pairs["lag"] ?? "") ?? 0)
        }
        return links
    }
}

public struct CommandStat: Sendable, Equatable {
    public var calls: Int64
    public var usec: Int64

    public init(calls: Int64, usec: Int64) {
        self.calls = calls
        self.usec = usec
    }
}

/// A replica as its primary sees it; `lag` is seconds since the replica's last acknowledgement.
public struct ReplicaLink: Sendable, Equatable {
    public var state: String
    public var offset: Int64
    public var lagSeconds: Double

    public init(state: String, offset: Int64, lagSeconds: Double) {
        self.state = state
        self.offset = offset
        self.lagSeconds = lagSeconds
    }
}

/// One `SLOWLOG GET` entry.
public struct SlowlogEntry: Sendable, Equatable {
    public var id: Int64
    /// Seconds since 1970.
    public var timestamp: Int64
    public var durationMicroseconds: Int64
    public var arguments: [String]
    public var client: String
    public var clientName: String

    public init(id: Int64, timestamp: Int64, durationMicroseconds: Int64, arguments: [String], client: String, clientName: String) {
        self.id = id
        self.timestamp = timestamp
        self.durationMicroseconds = durationMicroseconds
        self.arguments = arguments
        self.client = client
        self.clientName = clientName
    }
}

/// Where metrics come from: the data plane, or a fake in unit tests.
public protocol MetricsSource: Sendable {
    func sample(_ node: NodeSpec) async throws -> NodeSample
    /// Each command's ACL categories (`get` → [read, string, fast]), from `COMMAND`.
    func commandCategories(_ node: NodeSpec) async throws -> [String: Set<String>]
    func slowlog(_ node: NodeSpec, count: Int) async throws -> [SlowlogEntry]
    /// The host's available memory in bytes (`MemAvailable` in `/proc/meminfo`).
    func hostAvailableMemory() -> Int64?
    /// The memory of up to `count` random keys (RANDOMKEY, then MEMORY USAGE), largest first.
    func sampleKeySizes(_ node: NodeSpec, count: Int) async throws -> [(key: String, bytes: Int64)]
}
