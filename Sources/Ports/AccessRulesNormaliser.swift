import Model

/// Turns a validated access string into the canonical form users see and the store keeps.
///
/// MemoryDB shows an access string the way Redis itself prints it after `ACL SETUSER` (rules
/// merged, reordered, redundant ones dropped, `-@all` spelled out). Redis' printer depends on
/// its command tables and even its hash order, so the only faithful normaliser is Redis: the
/// server asks a real `redis-server` (`RedisRulesNormaliser`); unit tests use the canonical
/// ordering alone.
public protocol AccessRulesNormaliser: Sendable {
    func normalise(_ access: AccessString) async throws -> String
}

/// The canonical order without asking Redis: state, keys, channels, commands. Right for simple
/// strings; used where no engine is at hand (unit tests).
public struct CanonicalOrderNormaliser: AccessRulesNormaliser {
    public init() {}

    public func normalise(_ access: AccessString) async throws -> String { access.description }
}
