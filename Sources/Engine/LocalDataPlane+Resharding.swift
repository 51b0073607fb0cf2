import Model

/// Online slot moves between primaries of a running cluster, as `redis-cli --cluster reshard`
/// does them, batched: one pipeline per step for a whole batch of slots instead of a round trip
/// per slot and per step.
extension LocalDataPlane {
    /// How many slots' MIGRATE commands go in one pipeline: bounds the keys held in memory.
    static let migratePipelineSlots = 256

    public func moveSlots(_ slots: [Int], from source: NodeSpec, sourceID: String, to target: NodeSpec, targetID: String, announcingTo others: [NodeSpec]) async throws -> Int {
        guard !slots.isEmpty else { return 0 }
        let sourceClient = try client(for: source.address, timeout: .seconds(120))
        let targetClient = try client(for: target.address, timeout: .seconds(120))
        // A primary that gives up its last slot must stay a primary (to be retired by the
        // control plane), not become a replica of the node that took it. Rendered into every
        // config since; set here too for nodes started by an older version.
        _ = try await sourceClient.command("CONFIG", "SET", "cluster-allow-replica-migration", "no", to: source.address, as: source.admin)
        // 1. The target accepts the slots' keys (ASKING clients and MIGRATE) before the source
        //    starts sending clients there: importing first, then migrating.
        let importing = try await targetClient.send(slots.map { ["CLUSTER", "SETSLOT", String($0), "IMPORTING", sourceID] }, to: target.address, as: target.admin)
        for (slot, reply) in zip(slots, importing) {
            // Already the owner: an earlier attempt got as far as `SETSLOT NODE` on the target.
            if case .error(let message) = reply, !message.contains("already the owner") {
                throw RedisReplyError("CLUSTER SETSLOT \(slot) IMPORTING on \(target.name): \(message)")
            }
        }
        let migrating = try await sourceClient.send(slots.map { ["CLUSTER", "SETSLOT", String($0), "MIGRATING", targetID] }, to: source.address, as: source.admin)
        for (slot, reply) in zip(slots, migrating) {
            if case .error(let message) = reply { throw RedisReplyError("CLUSTER SETSLOT \(slot) MIGRATING on \(source.name): \(message)") }
        }
        // 2. Keys move until none is left. MIGRATE is atomic on the source: a key is either
        //    still there (and written there) or on the target; from here a key the source lacks
        //    is created on the target (clients are sent there with -ASK).
        var moved = 0
        var pending = slots
        var rounds = 0
        while !pending.isEmpty {
            rounds += 1
            guard rounds <= 1000 else { throw RedisReplyError("slots \(pending.prefix(5)) of \(source.name) still hold keys after 1000 rounds of MIGRATE") }
            for chunk in stride(from: 0, to: pending.count, by: Self.migratePipelineSlots).map({ Array(pending[$0..<min($0 + Self.migratePipelineSlots, pending.count)]) }) {
                moved += try await migrateKeys(ofSlots: chunk, from: source, with: sourceClient, to: target)
            }
            // Whatever a slot still holds (more than one listing's worth) goes in the next round.
            let counts = try await sourceClient.send(pending.map { ["CLUSTER", "COUNTKEYSINSLOT", String($0)] }, to: source.address, as: source.admin)
            pending = zip(pending, counts).filter { ($0.1.integer ?? 1) > 0 }.map(\.0)
        }
        // 3. Ownership: the target first (it bumps its config epoch, so its claim wins), then
        //    the source (which from then on answers -MOVED), then the other primaries, so
        //    clients are not sent round in circles while gossip spreads the news.
        for (node, nodeClient, tolerant) in [(target, targetClient, false), (source, sourceClient, false)] + (try others.map { ($0, try client(for: $0.address, timeout: .seconds(120)), true) }) {
            let replies = try await nodeClient.send(slots.map { ["CLUSTER", "SETSLOT", String($0), "NODE", targetID] }, to: node.address, as: node.admin)
            for (slot, reply) in zip(slots, replies) {
                if case .error(let message) = reply, !tolerant {
                    throw RedisReplyError("CLUSTER SETSLOT \(slot) NODE \(targetID) on \(node.name): \(message)")
                }
            }
        }
        return moved
    }

    /// One pipeline of GETKEYSINSLOT, then one of MIGRATE (a command per slot: Redis refuses
    /// keys of several slots in one); returns how many keys were listed and sent.
    private func migrateKeys(ofSlots slots: [Int], from source: NodeSpec, with sourceClient: RedisClient, to target: NodeSpec) async throws -> Int {
        let listed = try await sourceClient.send(slots.map { ["CLUSTER", "GETKEYSINSLOT", String($0), "1000"] }, to: source.address, as: source.admin)
        var commands: [[[UInt8]]] = []
        var commandSlots: [Int] = []
        var count = 0
        let head = ["MIGRATE", target.address.host, String(target.port), "", "0", "60000", "REPLACE", "AUTH2", target.admin.user, target.admin.password, "KEYS"]
            .map { Array($0.utf8) }
        for (slot, reply) in zip(slots, listed) {
            if case .error(let message) = reply { throw RedisReplyError("CLUSTER GETKEYSINSLOT \(slot) on \(source.name): \(message)") }
            let keys = (reply.array ?? []).compactMap { value -> [UInt8]? in
                if case .bulkString(let bytes?) = value { return bytes }
                return nil
            }
            guard !keys.isEmpty else { continue }
            commands.append(head + keys)
            commandSlots.append(slot)
            count += keys.count
        }
        guard !commands.isEmpty else { return 0 }
        let replies = try await sourceClient.send(bytes: commands, to: source.address, as: source.admin)
        for (slot, reply) in zip(commandSlots, replies) {
            if case .error(let message) = reply {
                throw RedisReplyError("MIGRATE of slot \(slot) from \(source.name) to \(target.name): \(message)")
            }
        }
        return count
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
