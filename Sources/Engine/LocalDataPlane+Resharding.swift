import Model

/// Online slot moves between primaries of a running cluster, with no client ever sent `-ASK`.
///
/// `redis-cli --cluster reshard` sets a slot MIGRATING on the source, whose clients are then
/// sent to the target with `-ASK` for every key the source no longer has. A client that has
/// not heard of the target (a new, slotless primary is not in `CLUSTER SLOTS`) cannot follow
/// that: redis-py fails with an AttributeError (redis/redis-py#4015). Here each slot is
/// handed over whole instead, by a script on the source that moves every key of the slot and
/// gives the slot away in one atomic step; the target, already importing it, takes ownership
/// right after. Clients see only `-MOVED`, as after any topology change: before the script a
/// slot is served by the source with all its keys, after it by the target with all of them.
extension LocalDataPlane {
    /// Slots handed over per pipeline: the target takes ownership of them right after, so a
    /// client sent back and forth (source: moved to the target; target, still importing:
    /// moved to the source) is so for a few milliseconds at most.
    static let handoverGroup = 16

    /// Copies every key of one slot to the target (MIGRATE COPY, a thousand at a time), then
    /// deletes them here and assigns the slot to the target, atomically: no command of any
    /// client runs in between. A MIGRATE that fails stops the script before anything is deleted
    /// or reassigned, so the source still serves the slot whole (the copies the target got are
    /// invisible there, in a slot it only imports, and replaced on the next attempt). Returns
    /// the number of keys moved. ARGV: slot, host, port, timeout, user, password, target id.
    static let handoverScript = """
        local slot = ARGV[1]
        local count = redis.call('CLUSTER', 'COUNTKEYSINSLOT', slot)
        local keys = {}
        if count > 0 then keys = redis.call('CLUSTER', 'GETKEYSINSLOT', slot, count) end
        for first = 1, #keys, 1000 do
          local command = {'MIGRATE', ARGV[2], ARGV[3], '', '0', ARGV[4], 'COPY', 'REPLACE', 'AUTH2', ARGV[5], ARGV[6], 'KEYS'}
          for index = first, math.min(first + 999, #keys) do command[#command + 1] = keys[index] end
          redis.call(unpack(command))
        end
        for first = 1, #keys, 1000 do
          redis.call('DEL', unpack(keys, first, math.min(first + 999, #keys)))
        end
        redis.call('CLUSTER', 'SETSLOT', slot, 'NODE', ARGV[7])
        return #keys
        """

    public func moveSlots(_ slots: [Int], from source: NodeSpec, sourceID: String, to target: NodeSpec, targetID: String, announcingTo others: [NodeSpec]) async throws -> Int {
        guard !slots.isEmpty else { return 0 }
        let sourceClient = try client(for: source.address, timeout: .seconds(600))
        let targetClient = try client(for: target.address, timeout: .seconds(600))
        // One connection to each for the whole batch: hundreds of pipelines follow.
        let moved = try await sourceClient.withSession(to: source.address, as: source.admin) { sourceSession in
            try await targetClient.withSession(to: target.address, as: target.admin) { targetSession in
                try await Self.handOver(slots, from: source, sourceSession, sourceID: sourceID, to: target, targetSession, targetID: targetID)
            }
        }
        // 3. The other primaries hear it now rather than by gossip, so no client is sent to a
        //    node that has not heard yet. Best effort: gossip tells them anyway.
        for node in others {
            _ = try? await client(for: node.address, timeout: .seconds(30)).send(
                slots.map { ["CLUSTER", "SETSLOT", String($0), "NODE", targetID] }, to: node.address, as: node.admin)
        }
        return moved
    }

    private static func handOver(
        _ slots: [Int], from source: NodeSpec, _ sourceSession: RedisSession, sourceID: String, to target: NodeSpec, _ targetSession: RedisSession,
        targetID: String
    ) async throws -> Int {
        // A primary that gives up its last slot must stay a primary (to be retired by the
        // control plane), not become a replica of the node that took it. Rendered into every
        // config since; set here too for nodes started by an older version.
        _ = try await sourceSession.send([["CONFIG", "SET", "cluster-allow-replica-migration", "no"]])[0].orThrow()
        // 1. The target accepts the slots' keys (RESTORE-ASKING from MIGRATE); to clients it
        //    still answers -MOVED to the source.
        let importing = try await targetSession.send(slots.map { ["CLUSTER", "SETSLOT", String($0), "IMPORTING", sourceID] })
        var owned = Set<Int>()
        for (slot, reply) in zip(slots, importing) {
            guard case .error(let message) = reply else { continue }
            // Already the owner: an earlier attempt got as far as the target's `SETSLOT NODE`.
            guard message.contains("already the owner") else { throw RedisReplyError("CLUSTER SETSLOT \(slot) IMPORTING on \(target.name): \(message)") }
            owned.insert(slot)
        }
        // 2. Per group: the source hands each slot over whole, then the target takes them.
        var moved = 0
        for start in stride(from: 0, to: slots.count, by: handoverGroup) {
            let group = Array(slots[start..<min(start + handoverGroup, slots.count)])
            let scripts = group.filter { !owned.contains($0) }.map { slot in
                ["EVAL", handoverScript, "0", String(slot), target.address.host, String(target.port), "60000", target.admin.user, target.admin.password, targetID]
            }
            if !scripts.isEmpty {
                for (command, reply) in zip(scripts, try await sourceSession.send(scripts)) {
                    if case .error(let message) = reply { throw RedisReplyError("handing slot \(command[3]) from \(source.name) to \(target.name): \(message)") }
                    moved += reply.integer ?? 0
                }
            }
            let taken = try await targetSession.send(group.map { ["CLUSTER", "SETSLOT", String($0), "NODE", targetID] })
            for (slot, reply) in zip(group, taken) {
                if case .error(let message) = reply { throw RedisReplyError("CLUSTER SETSLOT \(slot) NODE on \(target.name): \(message)") }
            }
        }
        return moved
    }

    public func stabilizeSlots(_ slots: [Int], on node: NodeSpec) async throws {
        guard !slots.isEmpty else { return }
        let replies = try await client(for: node.address, timeout: .seconds(30)).send(
            slots.map { ["CLUSTER", "SETSLOT", String($0), "STABLE"] }, to: node.address, as: node.admin)
        for (slot, reply) in zip(slots, replies) {
            if case .error(let message) = reply { throw RedisReplyError("CLUSTER SETSLOT \(slot) STABLE on \(node.name): \(message)") }
        }
    }
}
