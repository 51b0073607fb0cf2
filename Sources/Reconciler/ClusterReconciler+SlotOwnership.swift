import Ports
import Foundation
import Control
import Model
import Store

/// Observing and acting for the slot-ownership invariant (`ClusterPlanner.slotWork`): key counts
/// of unclaimed slots and scans for stray keys (claims and purges are `ReshardingSteps`').
extension ClusterReconciler {
    /// Adds what restoring slot ownership needs to an observation: where keys of a slot nobody
    /// claims are, and, for shards whose processes changed since they were last scanned (and
    /// only once every slot has one owner), keys lying where their shard does not serve them.
    /// Looks at nothing in a settled cluster whose processes have not changed.
    func observeSlotOwnership(_ observed: inout ObservedCluster) async {
        guard observed.operations.isEmpty, let unclaimed = ClusterPlanner.unclaimedSlots(observed) else { return }
        let cluster = observed.cluster
        if !unclaimed.isEmpty {
            for node in observed.nodes where node.report?.isPrimary ?? false {
                // A node that cannot be asked is not counted: the claim then goes to its importer
                // or its shard, and never takes keys from anyone.
                guard let counts = try? await dataPlane.countKeys(inSlots: unclaimed, on: NodeSpec.of(node.record, in: cluster)) else { continue }
                for (slot, count) in counts { observed.slotKeys[slot, default: [:]][node.record.name] = count }
            }
            return
        }
        let due = strayScans.due(observed)
        guard !due.isEmpty else { return }
        let work = ClusterPlanner.slotWork(observed)
        guard work.claims.isEmpty, work.contested.isEmpty, work.stale.isEmpty else { return }
        for shard in due {
            guard let record = observed.shards.first(where: { $0.shardIndex == shard }), let primary = observed.node(record.primaryNode),
                let myself = primary.report?.myself, primary.report?.isPrimary ?? false
            else { continue }
            let expected = myself.slots + myself.importing.keys.map { SlotRange(first: $0, last: $0) }
            var clean = true
            for member in observed.nodes where member.record.shardIndex == shard {
                do {
                    let slots = try await dataPlane.slotsHoldingKeys(on: NodeSpec.of(member.record, in: cluster), outside: expected)
                    if !slots.isEmpty {
                        observed.strayKeys[member.record.name] = slots
                        clean = false
                    }
                } catch {
                    clean = false
                }
            }
            // Found strays keep the shard due: it is scanned again until they are gone.
            if clean { strayScans.record(observed, shard: shard) }
        }
    }

    /// For each drained shard (beyond the cluster's count, its primary serving nothing): how long
    /// its primary has answered no client with `-MOVED`. Clients with a stale map are still sent
    /// on by it; once none comes any more (or after `DrainWatch.patience`), it may go.
    func observeDrains(_ observed: inout ObservedCluster) async {
        for shard in observed.shards where shard.shardIndex > observed.cluster.numShards {
            guard let primary = observed.node(shard.primaryNode), let report = primary.report, !report.servesSlots else { continue }
            let key = "\(observed.cluster.name)/\(shard.shardIndex)"
            // Unknown counts as a change: it waits for a reading it can trust.
            let count = (try? await dataPlane.redirectsAnswered(by: NodeSpec.of(primary.record, in: observed.cluster))) ?? -1
            observed.drainQuiet[shard.shardIndex] = drains.quiet(key, redirects: count, now: observed.now)
        }
    }

    /// Tells the fault injector (tests only) that a step is about to start or has ended.
    func reachedStep(_ point: String, _ action: ReconcileAction, cluster: String) async {
        guard let faults else { return }
        await faults.reached(FaultPoint(point, cluster: cluster, detail: Self.describe(action), nodes: Self.participants(of: action)))
    }

    /// The nodes a step acts on, by role.
    static func participants(of action: ReconcileAction) -> [String: String] {
        switch action {
        case .moveSlots(let from, let to, _): return ["source": from, "target": to]
        case .startNode(let name), .stopNode(let name), .killNode(let name), .releaseNode(let name), .retireNode(let name), .restartNode(let name),
            .setConfigEpoch(let name, _), .meet(let name, _), .addSlots(let name, _), .replicate(let name, _), .stabilizeSlots(let name, _),
            .claimSlots(let name, _), .purgeStrayKeys(let name, _), .forgetMembers(let name, _):
            return ["node": name]
        case .beginFailover(let operation): return ["primary": operation.fromNode, "replica": operation.toNode]
        case .resync(_, let replica, _): return ["replica": replica]
        case .promote(_, let replica, let demoting): return demoting.map { ["replica": replica, "primary": $0] } ?? ["replica": replica]
        case .finishFailover(_, let primary): return ["primary": primary]
        default: return [:]
        }
    }
}

/// When each drained primary last answered a client with `-MOVED`. In memory: a restarted
/// control plane waits the quiet time again.
final class DrainWatch: @unchecked Sendable {
    /// A drained shard is let go after this long even if some client keeps being redirected
    /// (one that never learns the layout would otherwise hold it forever).
    static let patience: Int64 = 30_000
    private let lock = NSLock()
    private var seen: [String: (redirects: Int, changed: Int64, first: Int64)] = [:]

    /// Milliseconds since the count of redirects last moved (or `patience` past the first look).
    func quiet(_ key: String, redirects: Int, now: Int64) -> Int64 {
        lock.withLock {
            var entry = seen[key] ?? (redirects, now, now)
            if entry.redirects != redirects || redirects < 0 { entry = (redirects, now, entry.first) }
            seen[key] = entry
            return now - entry.first >= Self.patience ? Int64.max : now - entry.changed
        }
    }
}

/// Which processes each shard had when it was last found free of stray keys. In memory: a
/// restarted control plane scans every shard once.
final class StrayScanLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var scanned: [String: [Int: String]] = [:]

    /// Shards whose members or processes differ from their last clean scan.
    func due(_ observed: ObservedCluster) -> [Int] {
        lock.lock()
        defer { lock.unlock() }
        let known = scanned[observed.cluster.name] ?? [:]
        return observed.shards.map(\.shardIndex).filter { known[$0] != Self.signature(observed, shard: $0) }
    }

    func record(_ observed: ObservedCluster, shard: Int) {
        lock.lock()
        defer { lock.unlock() }
        scanned[observed.cluster.name, default: [:]][shard] = Self.signature(observed, shard: shard)
    }

    func forget(cluster: String, shard: Int) {
        lock.lock()
        defer { lock.unlock() }
        scanned[cluster]?[shard] = nil
    }

    static func signature(_ observed: ObservedCluster, shard: Int) -> String {
        observed.nodes.filter { $0.record.shardIndex == shard }.map { "\($0.record.name):\($0.pid ?? 0)" }.sorted().joined(separator: ",")
    }
}
