import Foundation
import Model
import Ports

/// Putting slot ownership right from whatever a crash left: open migrations closed, slots
/// nobody claims claimed by the node holding their keys, keys left where they no longer
/// belong deleted everywhere they are. The planner decides which; these only do it.
extension LocalDataPlane {
    /// Scans every slot outside the given ranges (ARGV: first, last, first, last...) for keys.
    /// Runs on replicas too (`no-writes`).
    static let strayScanScript = """
        #!lua flags=no-writes
        local found = {}
        for i = 1, #ARGV, 2 do
          for slot = tonumber(ARGV[i]), tonumber(ARGV[i + 1]) do
            if redis.call('CLUSTER', 'COUNTKEYSINSLOT', slot) > 0 then found[#found + 1] = slot end
          end
        end
        return found
        """

    /// Deletes the named keys through a primary that imports their slot for the moment (sent
    /// right after ASKING): each is written then deleted, so the deletion reaches its replicas
    /// and AOF even where the primary itself no longer has the key. ARGV: names.
    static let purgeScript = """
        for i = 1, #ARGV do
          redis.call('SET', ARGV[i], '')
          redis.call('DEL', ARGV[i])
        end
        return #ARGV
        """

    public func stabilizeSlots(_ slots: [Int], on node: NodeSpec, owners: [Int: String]) async throws {
        guard !slots.isEmpty else { return }
        let client = try client(for: node.address, timeout: .seconds(30))
        let view = ClusterNodesEntry.parse(try await client.command("CLUSTER", "NODES", to: node.address, as: node.admin).text())
        let myself = view.first(where: \.isMyself)
        // Copies in a slot it only imported: the owner holds every key.
        let imported = slots.filter { myself?.importing[$0] != nil }
        // A slot whose owner this node lost sight of while importing it (the owner failed over:
        // its old primary, now a replica, gave up its slots in this view, and gossip about an
        // imported slot is ignored): no key of it can be read or deleted until the node is told.
        let served = Set(view.flatMap { member in member.slots.flatMap { Array($0.first...$0.last) } })
        let told = imported.filter { !served.contains($0) }.compactMap { slot in owners[slot].map { ["CLUSTER", "SETSLOT", String(slot), "NODE", $0] } }
        if !told.isEmpty {
            for (command, reply) in zip(told, try await client.send(told, to: node.address, as: node.admin)) {
                if case .error(let message) = reply { throw RedisReplyError("\(command.joined(separator: " ")) on \(node.name): \(message)") }
            }
        }
        if !imported.isEmpty {
            let replies = try await client.send([["ASKING"], ["EVAL", Self.discardImportedScript, "0"] + imported.map(String.init)], to: node.address, as: node.admin)
            _ = try replies[1].orThrow()
        }
        let replies = try await client.send(slots.map { ["CLUSTER", "SETSLOT", String($0), "STABLE"] }, to: node.address, as: node.admin)
        for (slot, reply) in zip(slots, replies) {
            if case .error(let message) = reply { throw RedisReplyError("CLUSTER SETSLOT \(slot) STABLE on \(node.name): \(message)") }
        }
    }

    public func claimSlots(_ slots: [Int], on node: NodeSpec) async throws {
        guard !slots.isEmpty else { return }
        let client = try client(for: node.address, timeout: .seconds(30))
        let myID = try await client.command("CLUSTER", "MYID", to: node.address, as: node.admin).text()
        var commands = slots.map { ["CLUSTER", "SETSLOT", String($0), "NODE", myID] }
        // A claim without an import behind it does not bump the epoch; this makes it win.
        commands.append(["CLUSTER", "BUMPEPOCH"])
        let replies = try await client.send(commands, to: node.address, as: node.admin)
        for (command, reply) in zip(commands, replies) {
            if case .error(let message) = reply { throw RedisReplyError("\(command.joined(separator: " ")) on \(node.name): \(message)") }
        }
        // Markers of a hand-over whose group began at one of these slots.
        let deletions = slots.map { slot -> [String] in
            let names = Self.handoverMarkers(forSlot: slot)
            return ["DEL", names.ready, names.decision, names.committed]
        }
        _ = try await client.send(deletions, to: node.address, as: node.admin)
    }

    public func awaitReplicasListed(_ replicas: [Int: Set<Int>], by nodes: [NodeSpec], within limit: Duration) async -> Set<Int> {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while true {
            var unlisted: Set<Int> = []
            for node in nodes {
                // A node that does not answer lists nothing anyway: it is no view to wait for.
                guard let reply = try? await exchange([["CLUSTER", "SHARDS"]], with: node, timeout: observationTimeout)[0] else { continue }
                let listed = Self.healthyReplicas(in: reply)
                for (primary, expected) in replicas { unlisted.formUnion(expected.subtracting(listed[primary] ?? [])) }
            }
            if unlisted.isEmpty || clock.now >= deadline { return unlisted }
            // Cancelled: the wait ends early and reports the replicas listed so far.
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// What a CLUSTER SHARDS reply shows the answering node believes: for each primary's port,
    /// the ports of its replicas with `health` `online` (those it lists in CLUSTER SLOTS; a
    /// replica whose replication offset it has not heard yet is `loading`).
    public static func healthyReplicas(in reply: RESPValue) -> [Int: Set<Int>] {
        var replicas: [Int: Set<Int>] = [:]
        for shard in reply.array ?? [] {
            let members = (fields(of: shard)["nodes"]?.array ?? []).map(fields(of:))
            // A TLS node shows its port as `tls-port` (its `port` is 0 or absent).
            let port = { (member: [String: RESPValue]) in member["tls-port"]?.integer ?? member["port"]?.integer }
            guard let primary = members.first(where: { $0["role"]?.string == "master" }).flatMap(port) else { continue }
            replicas[primary] = Set(members.filter { $0["role"]?.string == "replica" && $0["health"]?.string == "online" }.compactMap(port))
        }
        return replicas
    }

    /// A flat RESP2 map (key, value, key, value...) as a dictionary.
    private static func fields(of value: RESPValue) -> [String: RESPValue] {
        let items = value.array ?? []
        var fields: [String: RESPValue] = [:]
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if let key = items[index].string { fields[key] = items[index + 1] }
        }
        return fields
    }

    public func redirectsAnswered(by node: NodeSpec) async throws -> Int {
        let text = try await exchange([["INFO", "errorstats"]], with: node, timeout: observationTimeout)[0].text()
        // errorstat_MOVED:count=12
        guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("errorstat_MOVED:") }),
            let count = line.split(separator: "=").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) })
        else { return 0 }
        return count
    }

    public func countKeys(inSlots slots: [Int], on node: NodeSpec) async throws -> [Int: Int] {
        guard !slots.isEmpty else { return [:] }
        let replies = try await client(for: node.address, timeout: .seconds(10)).send(
            slots.map { ["CLUSTER", "COUNTKEYSINSLOT", String($0)] }, to: node.address, as: node.admin)
        var counts: [Int: Int] = [:]
        for (slot, reply) in zip(slots, replies) {
            if let count = try reply.orThrow().integer, count > 0 { counts[slot] = count }
        }
        return counts
    }

    public func slotsHoldingKeys(on node: NodeSpec, outside expected: [SlotRange]) async throws -> [Int] {
        let scanned = SlotRange.complement(of: expected)
        guard !scanned.isEmpty else { return [] }
        let bounds = scanned.flatMap { [String($0.first), String($0.last)] }
        let reply = try await client(for: node.address, timeout: .seconds(10)).send(
            [["EVAL", Self.strayScanScript, "0"] + bounds], to: node.address, as: node.admin)[0].orThrow()
        return (reply.array ?? []).compactMap(\.integer)
    }

    public func purgeStrayKeys(inSlots slots: [Int], on primary: NodeSpec, owners: [Int: String], copies: [NodeSpec]) async throws -> Int {
        var purged = 0
        let client = try client(for: primary.address, timeout: .seconds(60))
        for slot in slots {
            guard let owner = owners[slot] else { continue }
            // Every name any of them holds there (binary-safe).
            var names = Set<[UInt8]>()
            for node in [primary] + copies {
                let nodeClient = try self.client(for: node.address, timeout: .seconds(30))
                let count = try await nodeClient.command("CLUSTER", "COUNTKEYSINSLOT", String(slot), to: node.address, as: node.admin).integer ?? 0
                guard count > 0 else { continue }
                let keys = try await nodeClient.command("CLUSTER", "GETKEYSINSLOT", String(slot), String(count), to: node.address, as: node.admin)
                for key in keys.array ?? [] { if case .bulkString(let bytes?) = key { names.insert(bytes) } }
            }
            guard !names.isEmpty else { continue }
            let slotText = Array(String(slot).utf8)
            var commands: [[[UInt8]]] = [[Array("CLUSTER".utf8), Array("SETSLOT".utf8), slotText, Array("IMPORTING".utf8), Array(owner.utf8)]]
            let ordered = names.sorted { $0.lexicographicallyPrecedes($1) }
            for start in stride(from: 0, to: ordered.count, by: 1000) {
                commands.append([Array("ASKING".utf8)])
                commands.append([Array("EVAL".utf8), Array(Self.purgeScript.utf8), Array("0".utf8)] + ordered[start..<min(start + 1000, ordered.count)])
            }
            commands.append([Array("CLUSTER".utf8), Array("SETSLOT".utf8), slotText, Array("STABLE".utf8)])
            let replies = try await client.send(bytes: commands, to: primary.address, as: primary.admin)
            for reply in replies {
                if case .error(let message) = reply { throw RedisReplyError("removing stray keys of slot \(slot) on \(primary.name): \(message)") }
            }
            purged += names.count
        }
        return purged
    }
}
