import Foundation
import Model
import Ports
import Synchronization

/// Asks a short-lived `redis-server` how it prints the rules: `ACL SETUSER probe reset <rules>`
/// then `ACL LIST`, minus what `reset` adds and the user name. About 60 ms, on user creation
/// and update only.
///
/// The process listens on a Unix socket only (no TCP port, so it competes with no node for the
/// port range), in a private directory under the data directory, and is killed and removed when
/// the answer is in.
public struct RedisRulesNormaliser: AccessRulesNormaliser {
    let enginePath: String
    let scratchDirectory: String
    /// Rules already normalised, by their tokens: Redis' answer for the same rules is the same,
    /// and asking costs a scratch server's start (about 4 ms), which made CreateUser 40 times
    /// slower than any other write. Refused rules are not kept (they are asked again).
    let known = KnownRules()

    public init(enginePath: String, scratchDirectory: String) {
        self.enginePath = enginePath
        self.scratchDirectory = scratchDirectory
    }

    public func normalise(_ access: AccessString) async throws -> String {
        let key = access.tokens.joined(separator: " ")
        if let rules = known.rules(for: key) { return rules }
        let rules = try await ask(access)
        known.remember(rules, for: key)
        return rules
    }

    private func ask(_ access: AccessString) async throws -> String {
        let server: ScratchServer
        do {
            server = try await ScratchServer.start(enginePath: enginePath, scratchDirectory: scratchDirectory, timeout: .seconds(5))
        } catch {
            throw MemoryDBError(.internalFailure, "redis-server could not be started to check the access string: \(error)")
        }
        defer { server.stop() }
        let rules = ["ACL", "SETUSER", "probe", "reset"] + access.tokens
        let replies = try await RedisClient(timeout: .seconds(2)).send([rules, ["ACL", "LIST"]], to: server.address, as: nil)
        if case .error(let message) = replies[0] {
            // Redis itself refuses the rules: the caller's access string is at fault.
            throw MemoryDBError.invalid("accessString is refused by Redis: \(message)")
        }
        return try Self.rules(ofProbeIn: replies[1])
    }

    /// The probe user's line of `ACL LIST`, without the user name and what `reset` adds.
    static func rules(ofProbeIn reply: RESPValue) throws -> String {
        guard let lines = reply.array?.compactMap(\.string), let line = lines.first(where: { $0.hasPrefix("user probe ") }) else {
            throw MemoryDBError(.internalFailure, "redis-server did not list the probe user.")
        }
        return line.dropFirst("user probe ".count).split(separator: " ")
            .filter { $0 != "sanitize-payload" && $0 != "nopass" && !$0.hasPrefix("#") }
            .joined(separator: " ")
    }
}

/// Normalised rules by the tokens they came from, at most 4,096 (then forgotten together).
final class KnownRules: Sendable {
    private let entries = Mutex<[String: String]>([:])

    func rules(for key: String) -> String? {
        entries.withLock { $0[key] }
    }

    func remember(_ rules: String, for key: String) {
        entries.withLock { entries in
            if entries.count >= 4096 { entries.removeAll(keepingCapacity: true) }
            entries[key] = rules
        }
    }
}
