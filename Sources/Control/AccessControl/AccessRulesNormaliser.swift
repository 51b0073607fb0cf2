import Engine
import Foundation
import Model
import Synchronization

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

/// Asks a short-lived `redis-server` how it prints the rules: `ACL SETUSER probe reset <rules>`
/// then `ACL LIST`, minus what `reset` adds and the user name. About 60 ms, on user creation
/// and update only.
///
/// The process runs on a free loopback port from the top of the node range, in a private
/// directory under the data directory, and is killed and removed when the answer is in.
public struct RedisRulesNormaliser: AccessRulesNormaliser {
    let enginePath: String
    let scratchDirectory: String
    let ports: ClosedRange<Int>
    let isBindable: @Sendable (Int) -> Bool

    public init(enginePath: String, scratchDirectory: String, ports: ClosedRange<Int>, isBindable: @escaping @Sendable (Int) -> Bool = PortAllocator.canBindLoopback) {
        self.enginePath = enginePath
        self.scratchDirectory = scratchDirectory
        self.ports = ports
        self.isBindable = isBindable
    }

    /// Ports probes of this process hold, so concurrent probes never pick the same one.
    static let reserved = Mutex<Set<Int>>([])

    public func normalise(_ access: AccessString) async throws -> String {
        // A port another process takes between the check and redis-server's bind makes the
        // probe exit at once; then another port is tried.
        for _ in 0..<3 {
            let port = try reservePort()
            defer { _ = Self.reserved.withLock { $0.remove(port) } }
            if let rules = try await probe(access, port: port) { return rules }
        }
        throw MemoryDBError(.internalFailure, "redis-server could not be started to check the access string.")
    }

    private func reservePort() throws -> Int {
        let port = Self.reserved.withLock { reserved -> Int? in
            guard let port = ports.reversed().first(where: { !reserved.contains($0) && isBindable($0) }) else { return nil }
            reserved.insert(port)
            return port
        }
        guard let port else {
            throw MemoryDBError(.insufficientClusterCapacity, "No free port in \(ports.lowerBound)-\(ports.upperBound) to check the access string with.")
        }
        return port
    }

    /// The normalised rules, or nil when the probe process died before answering.
    private func probe(_ access: AccessString, port: Int) async throws -> String? {
        let directory = "\(scratchDirectory)/acl-\(UUID().uuidString.lowercased())"
        try LocalDataPlane.makePrivateDirectory(scratchDirectory)
        try LocalDataPlane.makePrivateDirectory(directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pid = try ProcessControl.spawnDetached(
            [enginePath, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory,
             "--logfile", "", "--daemonize", "no"],
            workingDirectory: directory)
        // Once reaped, the PID is no longer ours to signal.
        var reaped = false
        defer { if !reaped { ProcessControl.killAndReap(pid) } }
        let client = RedisClient(timeout: .milliseconds(500))
        let address = NodeAddress(port: port)
        let rules = ["ACL", "SETUSER", "probe", "reset"] + access.tokens
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while true {
            do {
                let replies = try await client.send([rules, ["ACL", "LIST"]], to: address, as: nil)
                _ = try replies[0].orThrow()
                return try Self.rules(ofProbeIn: replies[1])
            } catch is NodeUnreachableError where clock.now < deadline {
                if (try? ProcessControl.isAlive(pid)) == false {
                    reaped = true
                    return nil
                }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
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
