/// The Redis version the installed `redis-server` reports, as MemoryDB names it.
///
/// MemoryDB reports `EngineVersion` as major.minor ("7.0") and `EnginePatchVersion` as the full
/// version ("7.0.15"); the parameter group family follows the major version.
public struct EngineVersion: Sendable, Hashable, Codable {
    public let major: Int
    public let minor: Int
    public let patch: Int

    public init(major: Int, minor: Int, patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses the output of `redis-server --version` ("Redis server v=7.0.15 sha=...").
    public init?(redisVersionOutput output: String) {
        let tokens = output.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard let token = tokens.first(where: { $0.hasPrefix("v=") }) else { return nil }
        let parts = token.dropFirst(2).split(separator: ".").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        self.init(major: parts[0], minor: parts[1], patch: parts[2])
    }

    /// "7.0", as `EngineVersion` is reported.
    public var engineVersion: String { "\(major).\(minor)" }
    /// "7.0.15", as `EnginePatchVersion` is reported.
    public var patchVersion: String { "\(major).\(minor).\(patch)" }
    /// The parameter group family: `memorydb_redis7`.
    public var parameterGroupFamily: String { "memorydb_redis\(major)" }
    /// The built-in parameter group of this family: `default.memorydb-redis7`.
    public var defaultParameterGroupName: String { "default.memorydb-redis\(major)" }
}
