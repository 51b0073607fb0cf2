import Foundation
import Model
import Ports

/// Slot hand-over with exactly one owner at every instant, and no client ever sent back and
/// forth, `-ASK`ed or told the cluster is down.
///
/// Redis 7.0 offers no atomic slot migration, and each of its building blocks breaks a client
/// somewhere (all measured on 7.0.15, see REDIS-NOTES.md 10 and the README's failure section):
/// - `-ASK` (redis-cli's way) crashes redis-py when the target has no slots yet (redis/redis-py#4015);
/// - a source that gives a slot away before the target claims it sends clients to a target that
///   sends them back (MOVED loops; redis-py gives up after 16 hops, valkey-glide returns them);
/// - a target that claims first makes the source drop its copy on gossip, and Redis 7.0 does
///   not propagate that deletion to the source's replicas or AOF (stale keys resurface later);
/// - `CLIENT PAUSE ALL` cannot be lifted early and is answered after redirections.
///
/// So a group of slots is handed over in two halves that meet on the target, which decides:
/// 1. The target imports the slots (`SETSLOT IMPORTING`); any keys it holds there from an
///    earlier attempt are discarded (the source owns the slots, so it holds every key).
/// 2. One script on the source (`sourceScript`) holds every client of the source while it copies
///    the group's keys (MIGRATE COPY REPLACE), then a `ready` list, and waits (at most
///    `decisionWait`) for the target to decide by probing `ready` with MIGRATE COPY.
/// 3. The target was told beforehand, in one pipeline, to wait for `ready` (BLPOP, woken by its
///    arrival) and then run `claimScript`: `ready` there means every key arrived, so it records
///    `decision=commit`, claims the slots (`SETSLOT NODE`, which bumps its config epoch) and
///    deletes `ready`, atomically, in the same event-loop pass as the arrival.
/// 4. The source sees `ready` gone: it deletes the moved keys (replicated, so its replicas and
///    AOF forget them too) and gives the slots to the target, still in the same script.
/// If the target has not decided by the deadline (or `ready` may not have arrived), the source
/// writes `decision=abort` there,
/// creating it only if absent (MIGRATE COPY without REPLACE: one atomic create on the target):
/// created, the source keeps everything and the target never claims (its script sees the
/// decision); refused (BUSYKEY), the target committed first and the source completes. A target
/// that cannot be reached at that moment may have committed, so the source completes too: the
/// target holds every key (each copy was acknowledged after its AOF write) and claims the slots
/// when it is back (`claimSlots`).
///
/// Clients: the source serves the slots (or holds clients inside its script) until the target
/// owns them; a client sent by the target to the source before the claim is answered there or
/// redirected once, to the new owner: never more than two hops. Markers live in the group's
/// first slot, expire on their own after `markerLifetime`, and are deleted once the group is done.
extension LocalDataPlane {
    /// At most this many slots per atomic group: the source holds its clients for one group,
    /// and copies it with one MIGRATE (one AOF write on the target) per slot holding keys.
    static let groupSlots = 64
    /// At most this many keys per group (a slot with more is a group on its own): one MIGRATE,
    /// so one AOF write on the target, per group.
    static let groupKeys = 1000
    /// How long the source waits for the target's decision when it did not come with `ready`:
    /// with the copy and the probes' timeouts, well under the 500 ms after which a silent primary
    /// counts as hung.
    static let decisionWait: Duration = .milliseconds(100)
    /// MIGRATE's timeout for the probes of the target's decision.
    static let probeTimeoutMilliseconds = 50
    /// MIGRATE's idle timeout while copying (a target that stops answering mid-copy fails the
    /// group before anything is decided).
    static let copyIdleTimeoutMilliseconds = 200
    /// How long hand-over markers live if nobody deletes them (a control plane killed mid-group).
    static let markerLifetimeMilliseconds = 10_000
    /// How long one exchange with either node may take (a group's script included): a node
    /// frozen mid-hand-over fails the step, so the reconciler can deal with it (kill it as hung).
    static let exchangeLimit: Duration = .seconds(5)

    /// The marker keys of a group whose first slot is `slot`.
    public static func handoverMarkers(forSlot slot: Int) -> (ready: String, decision: String, committed: String) {
        let tag = KeySlot.tag(forSlot: slot)
        return ("{\(tag)}__memoryplane:handover:ready", "{\(tag)}__memoryplane:handover:decision", "{\(tag)}__memoryplane:handover:committed")
    }

    /// Source side. KEYS: ready, decision, committed (the group's first slot). ARGV: host, port,
    /// user, password, target id, copy timeout (ms), decision wait (µs), marker lifetime (ms),
    /// probe timeout (ms), slots...
    /// Returns {outcome, keys moved, µs held, µs copying, µs delivering `ready` (the target's
    /// claim included), how the decision came}: outcome is `commit`, `abort`, `unreachable: <why>`
    /// or `error: <why>` (nothing was changed).
    static let sourceScript = """
        local ready, decision, committed = KEYS[1], KEYS[2], KEYS[3]
        local host, port, user, password, target = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
        local copyTimeout, wait, lifetime, probeTimeout = ARGV[6], tonumber(ARGV[7]), ARGV[8], ARGV[9]
        local function now() local t = redis.call('TIME'); return tonumber(t[1]) * 1000000 + tonumber(t[2]) end
        local started = now()
        local function migrate(timeout, options, keys)
          local command = {'MIGRATE', host, port, '', '0', timeout}
          for _, option in ipairs(options) do command[#command + 1] = option end
          command[#command + 1] = 'AUTH2'; command[#command + 1] = user; command[#command + 1] = password
          command[#command + 1] = 'KEYS'
          for _, key in ipairs(keys) do command[#command + 1] = key end
          return redis.pcall(unpack(command))
        end
        local function failed(reply) return type(reply) == 'table' and reply.err ~= nil end
        -- The target must be known here: giving a slot to an unknown node would fail half-way.
        local known = redis.pcall('CLUSTER', 'COUNT-FAILURE-REPORTS', target)
        if failed(known) then return {'error: the target is unknown to the source: ' .. known.err, 0, now() - started} end
        local moved, total = {}, 0
        for i = 10, #ARGV do
          local slot = ARGV[i]
          local count = redis.call('CLUSTER', 'COUNTKEYSINSLOT', slot)
          if count > 0 then
            local keys = redis.call('CLUSTER', 'GETKEYSINSLOT', slot, count)
            moved[#moved + 1] = keys
            for first = 1, #keys, 1000 do
              local reply = migrate(copyTimeout, {'COPY', 'REPLACE'}, {unpack(keys, first, math.min(first + 999, #keys))})
              if failed(reply) then return {'error: copying slot ' .. slot .. ': ' .. reply.err, 0, now() - started} end
            end
            total = total + #keys
          end
        end
        -- A list: the target's BLPOP takes one element as it arrives, the claim the other.
        redis.call('DEL', ready)
        local copied = now()
        redis.call('RPUSH', ready, 'arrived', 'claimable')
        redis.call('PEXPIRE', ready, lifetime)
        local sent = migrate(copyTimeout, {'COPY', 'REPLACE'}, {ready})
        local delivered = now()
        local path = 'by probing'
        local outcome = nil
        if not failed(sent) then
          -- Usually the target committed as `ready` arrived (it was waiting for it): its
          -- `committed` marker is there, and this probe is refused (BUSYKEY) without writing.
          redis.call('SET', committed, '1', 'PX', lifetime)
          local check = migrate(probeTimeout, {'COPY'}, {committed})
          redis.call('DEL', committed)
          if failed(check) and string.find(check.err, 'BUSYKEY', 1, true) then
            outcome = 'commit'
            path = 'with ready'
          end
          -- Otherwise wait for it: `ready` is refused until the target's claim deletes it. (An
          -- accepted probe writes on the target, so it may take an fsync: a probe that times out
          -- may yet have been accepted, and the decision below settles what this loop missed.)
          local deadline = now() + wait
          while outcome == nil and now() < deadline do
            local probe = migrate(probeTimeout, {'COPY'}, {ready})
            if not failed(probe) then outcome = 'commit' end
          end
        end
        redis.call('DEL', ready)
        if outcome == nil then
          redis.call('SET', decision, 'abort', 'PX', lifetime)
          local cas = migrate(probeTimeout, {'COPY'}, {decision})
          redis.call('DEL', decision)
          path = 'at the deadline'
          if not failed(cas) then return {'abort', 0, now() - started, copied - started, delivered - copied, path} end
          if string.find(cas.err, 'BUSYKEY', 1, true) then outcome = 'commit' else outcome = 'unreachable: ' .. cas.err end
        end
        for _, keys in ipairs(moved) do
          for first = 1, #keys, 1000 do redis.call('DEL', unpack(keys, first, math.min(first + 999, #keys))) end
        end
        for i = 10, #ARGV do redis.call('CLUSTER', 'SETSLOT', ARGV[i], 'NODE', target) end
        return {outcome, total, now() - started, copied - started, delivered - copied, path}
        """

    /// Target side, sent right after ASKING (the markers' slot is imported, not owned, until
    /// the claim). ARGV: ready, decision, committed, lifetime (ms), own id, slots... Returns the
    /// decision (`commit` or `abort`), or `wait` while the copy is not complete.
    public static let claimScript = """
        local ready, decision, committed, lifetime, me = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
        local decided = redis.call('GET', decision)
        if decided then return decided end
        if redis.call('EXISTS', ready) == 0 then return 'wait' end
        redis.call('SET', decision, 'commit', 'PX', lifetime)
        redis.call('SET', committed, '1', 'PX', lifetime)
        for i = 6, #ARGV do redis.call('CLUSTER', 'SETSLOT', ARGV[i], 'NODE', me) end
        redis.call('DEL', ready)
        return 'commit'
        """

    /// Deletes every key the node holds in the given slots, which it imports (sent right after
    /// ASKING). ARGV: slots. Returns how many keys went.
    ///
    /// One key per DEL: GETKEYSINSLOT also lists keys whose TTL has passed but that active expiry
    /// has not removed yet, and in an importing slot Redis refuses a command naming several
    /// keys when one of them is (logically) missing ("non local key"), which would keep an
    /// import that must be closed open for good (found by the fault matrix). A single key is
    /// always served under ASKING, and its DEL removes an expired one too.
    static let discardImportedScript = """
        local total = 0
        for i = 1, #ARGV do
          local count = redis.call('CLUSTER', 'COUNTKEYSINSLOT', ARGV[i])
          if count > 0 then
            local keys = redis.call('CLUSTER', 'GETKEYSINSLOT', ARGV[i], count)
            for _, key in ipairs(keys) do redis.call('DEL', key) end
            total = total + #keys
          end
        end
        return total
        """

    public func moveSlots(_ slots: [Int], from source: NodeSpec, sourceID: String, to target: NodeSpec, targetID: String, announcingTo others: [NodeSpec]) async throws -> SlotMoveReport {
        guard !slots.isEmpty else { return SlotMoveReport() }
        let sourceClient = try client(for: source.address, timeout: .seconds(600))
        let targetClient = try client(for: target.address, timeout: .seconds(600))
        let cluster = FaultPoint.cluster(ofNode: source.name)
        let roles = ["source": source.name, "target": target.name]
        let faults = faults
        // One connection to each for the whole move: many groups follow.
        let report = try await sourceClient.withSession(to: source.address, as: source.admin) { sourceSession in
            try await targetClient.withSession(to: target.address, as: target.admin) { targetSession in
                let pending = try await Self.prepareTarget(slots, target: target, targetSession, sourceID: sourceID)
                await faults?.reached(FaultPoint("handover.importing", cluster: cluster, nodes: roles))
                var report = SlotMoveReport()
                for group in try await Self.groups(of: pending, sourceSession) {
                    let moved = try await Self.handOver(group, from: source, sourceSession, to: target, targetSession, targetID: targetID, faults: faults)
                    report.keys += moved.keys
                    report.groups += 1
                    if moved.holdMilliseconds >= report.longestHoldMilliseconds {
                        report.longestHoldMilliseconds = moved.holdMilliseconds
                        report.longestHoldBreakdown = moved.breakdown
                    }
                }
                return report
            }
        }
        // The other primaries hear it now rather than by gossip, so none sends a client to the
        // old owner for long. Best effort: the target's claim is gossiped anyway.
        for node in others {
            _ = try? await client(for: node.address, timeout: .seconds(30)).send(
                slots.map { ["CLUSTER", "SETSLOT", String($0), "NODE", targetID] }, to: node.address, as: node.admin)
        }
        return report
    }

    /// Step 1: the target imports every slot it does not own yet, holding none of their keys.
    /// Returns the slots still to hand over (those it owns already are done).
    private static func prepareTarget(_ slots: [Int], target: NodeSpec, _ session: RedisSession, sourceID: String) async throws -> [Int] {
        // A primary that gives up its last slot must stay a primary (to be retired by the
        // control plane), not become a replica of the node that took it. Rendered into every
        // config since; set here too for nodes started by an older version.
        _ = try await session.send([["CONFIG", "SET", "cluster-allow-replica-migration", "no"]], within: exchangeLimit)[0].orThrow()
        let importing = try await session.send(slots.map { ["CLUSTER", "SETSLOT", String($0), "IMPORTING", sourceID] }, within: exchangeLimit)
        var pending: [Int] = []
        for (slot, reply) in zip(slots, importing) {
            guard case .error(let message) = reply else {
                pending.append(slot)
                continue
            }
            // Already the owner: an earlier attempt's claim went through.
            guard message.contains("already the owner") else {
                throw HandoverError.failed(slots: [slot], reason: "CLUSTER SETSLOT \(slot) IMPORTING on \(target.name): \(message)")
            }
        }
        guard !pending.isEmpty else { return [] }
        // Copies (and markers) an earlier, called-off attempt left: the source holds every key.
        let discarded = try await session.send([["ASKING"], ["EVAL", discardImportedScript, "0"] + pending.map(String.init)], within: exchangeLimit)
        _ = try discarded[1].orThrow()
        return pending
    }

    /// Groups of consecutive pending slots small enough that the source holds its clients
    /// only briefly for each.
    private static func groups(of slots: [Int], _ sourceSession: RedisSession) async throws -> [[Int]] {
        let counts = try await sourceSession.send(slots.map { ["CLUSTER", "COUNTKEYSINSLOT", String($0)] }, within: exchangeLimit)
        var groups: [[Int]] = []
        var current: [Int] = []
        var keys = 0
        for (slot, reply) in zip(slots, counts) {
            let count = try reply.orThrow().integer ?? 0
            if !current.isEmpty && (current.count >= groupSlots || keys + count > groupKeys) {
                groups.append(current)
                current = []
                keys = 0
            }
            current.append(slot)
            keys += count
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }

    /// Steps 2–4 for one group; returns the keys moved and how long the source held its clients.
    private static func handOver(
        _ group: [Int], from source: NodeSpec, _ sourceSession: RedisSession, to target: NodeSpec, _ targetSession: RedisSession,
        targetID: String, faults: (any FaultInjector)?
    ) async throws -> (keys: Int, holdMilliseconds: Double, breakdown: String) {
        let markers = handoverMarkers(forSlot: group[0])
        let lifetime = String(markerLifetimeMilliseconds)
        let waitMicroseconds = decisionWait.components.seconds * 1_000_000 + decisionWait.components.attoseconds / 1_000_000_000_000
        let sourceCommand =
            ["EVAL", sourceScript, "3", markers.ready, markers.decision, markers.committed, target.address.host, String(target.port), target.admin.user,
             target.admin.password, targetID, String(copyIdleTimeoutMilliseconds), String(waitMicroseconds), lifetime, String(probeTimeoutMilliseconds)]
            + group.map(String.init)
        let claimCommand = ["EVAL", claimScript, "0", markers.ready, markers.decision, markers.committed, lifetime, targetID] + group.map(String.init)
        // How long the target waits for `ready` before asking again (the copy of a big group
        // can take longer; a called-off hand-over ends the wait sooner than this).
        let waitSeconds = "0.3"
        let cluster = FaultPoint.cluster(ofNode: source.name)
        let roles = ["source": source.name, "target": target.name]
        let detail = "slots \(SlotRange.listDescription(SlotLayout.ranges(of: group)))"
        let sourceReply = SourceReply()
        let decision = try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                do {
                    sourceReply.set(.success(try await sourceSession.send([sourceCommand], within: exchangeLimit)[0]))
                } catch {
                    sourceReply.set(.failure(error))
                }
            }
            // The target decides: it waits (BLPOP) for `ready` and claims in the same pass, so how
            // long the source holds its clients does not depend on this process being scheduled.
            // Once the source has answered, its outcome is final (every exit after `ready` went
            // through the target's decision), and no further claim may be sent.
            var decision = "wait"
            await faults?.reached(FaultPoint("handover.copying", cluster: cluster, detail: detail, nodes: roles))
            while !sourceReply.isSet {
                let replies = try await targetSession.send([["ASKING"], ["BLPOP", markers.ready, waitSeconds], ["ASKING"], claimCommand], within: exchangeLimit)
                decision = try replies[3].text()
                if decision != "wait" { break }
            }
            if decision == "commit" { await faults?.reached(FaultPoint("handover.claimed", cluster: cluster, detail: detail, nodes: roles)) }
            try await tasks.waitForAll()
            return decision
        }
        let reply = try sourceReply.value()
        guard let fields = reply.array, fields.count >= 3, let outcome = fields[0].string else {
            if case .error(let message) = reply { throw HandoverError.failed(slots: group, reason: "the hand-over script on \(source.name) failed: \(message)") }
            throw HandoverError.failed(slots: group, reason: "unexpected reply from \(source.name): \(reply)")
        }
        let held = Double(fields[2].integer ?? 0) / 1000
        var breakdown = ""
        if fields.count >= 6 {
            breakdown = String(
                format: "copy %.1f ms, ready %.1f ms, decided %@", Double(fields[3].integer ?? 0) / 1000, Double(fields[4].integer ?? 0) / 1000,
                fields[5].string ?? "?")
        }
        switch outcome {
        case "commit":
            // The markers now sit in a slot the target owns: delete them there.
            _ = try await targetSession.send([["DEL", markers.ready, markers.decision, markers.committed]], within: exchangeLimit)
            await faults?.reached(FaultPoint("handover.committed", cluster: cluster, detail: detail, nodes: roles))
            return (fields[1].integer ?? 0, held, breakdown)
        case "abort":
            throw HandoverError.aborted(slots: group, source: source.name, target: target.name)
        default:
            if outcome.hasPrefix("unreachable") {
                throw HandoverError.targetUnreachable(slots: group, target: target.name, reason: String(outcome.dropFirst("unreachable: ".count)))
            }
            throw HandoverError.failed(slots: group, reason: String(outcome.dropFirst("error: ".count)) + " (target decided \(decision))")
        }
    }
}

/// The source's reply, set once by the task that waits for it and read by the loop polling
/// the target (which must not be interrupted mid-exchange: its connection is reused).
private final class SourceReply: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<RESPValue, any Error>?

    func set(_ value: Result<RESPValue, any Error>) {
        lock.lock()
        defer { lock.unlock() }
        result = value
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return result != nil
    }

    func value() throws -> RESPValue {
        lock.lock()
        defer { lock.unlock() }
        guard let result else { throw HandoverError.failed(slots: [], reason: "the source's reply never came") }
        return try result.get()
    }
}
