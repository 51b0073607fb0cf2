import Foundation
import Logging
import Model
import Ports

/// Warm nodes (`serve --warm-nodes N`): `redis-server` processes started ahead of time under
/// `warm/<id>/`, adopted by new clusters.
///
/// A warm node runs the configuration every node runs (cluster mode, AOF with `appendfsync
/// always`, loopback, the same timeouts) with the pool's admin password and the `default` user
/// off, so nobody but the control plane can use it. Adoption makes it the node it replaces:
/// its directory is renamed to the node's (the process's working directory, AOF, `nodes.conf`,
/// log and PID file move with it, all named relative to it), the node's full `redis.conf` is
/// written there for every later start, and one pipeline sets what differs: the node's
/// certificate (TLS), `maxmemory`, the parameter group, the ACL's users and `default` user,
/// `masterauth`, and last the cluster's admin password.
extension LocalDataPlane: WarmNodeSource {
    public var warmDirectory: String { "\(dataDirectory)/warm" }

    /// Starts one warm node of the kind on `port` (bus port + 10000), serving every slot alone.
    ///
    /// Why every slot: Redis keeps a primary that was lately "in the minority" (it saw no
    /// reachable primary with slots, as a lone empty node always does) at `cluster_state:fail`
    /// for up to `cluster-node-timeout` after it joins a cluster (5 s here; at least 500 ms).
    /// A warm node that serves slots is never in the minority, and adopted as a primary it
    /// keeps its shard's slots and gives up the rest, so it never is.
    public func startWarmNode(id: String, port: Int, tls: Bool, pool: WarmNodePool) async throws -> WarmNode {
        let directory = "\(warmDirectory)/\(id)"
        try Self.makePrivateDirectory(directory)
        var spec = NodeSpec(name: "warm-\(id)", port: port, busPort: port + 10000, maxmemoryBytes: 1 << 30, admin: pool.admin, tls: tls)
        spec.defaultUserRules = "off"
        let config = try nodeConfig(spec, in: directory)
        try Self.writePrivateFile("\(directory)/redis.conf", config.render())
        let pid = try ProcessControl.spawnDetached([enginePath, "\(directory)/redis.conf"], workingDirectory: directory)
        let node = WarmNode(id: id, port: port, busPort: port + 10000, tls: tls, pid: pid, startedAt: .now)
        let address = NodeAddress(port: port, tls: tls)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while true {
            do {
                _ = try await client(for: address, timeout: .milliseconds(500)).command(
                    "CLUSTER", "ADDSLOTSRANGE", "0", String(SlotRange.slotCount - 1), to: address, as: pool.admin)
                break
            } catch {
                guard clock.now < deadline else {
                    await discard(node)
                    throw ProcessError("warm node on port \(port) did not take its slots within 5 s: \(error)")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        logger.debug("started warm node", metadata: ["warm.id": "\(id)", "node.pid": "\(pid)", "node.port": "\(port)", "node.tls": "\(tls)"])
        return node
    }

    /// Stops every warm node found under `warm/` (by working directory) and removes the
    /// directory: at startup, what a previous run left; at shutdown, the pool.
    public func discardWarmNodes() async {
        // Best effort throughout: a pool directory that cannot be read or removed holds no
        // cluster's data, and the next start tries again.
        let names = (try? FileManager.default.contentsOfDirectory(atPath: warmDirectory)) ?? []
        await withTaskGroup(of: Void.self) { group in
            for name in names {
                let directory = "\(warmDirectory)/\(name)"
                group.addTask {
                    // Out of descriptors: nothing more is found now; the next start of serve looks again.
                    while let pid = try? ProcessControl.findProcess(executableName: engineName, workingDirectory: directory) {
                        await ProcessControl.terminate(pid, grace: .seconds(2))
                    }
                }
            }
        }
        // Already gone, or busy: warm directories are only scratch, removed again at next start.
        try? FileManager.default.removeItem(atPath: warmDirectory)
    }

    /// Stops one warm node and removes its directory.
    public func discard(_ warm: WarmNode) async {
        let directory = "\(warmDirectory)/\(warm.id)"
        // A process that cannot be proven ours is left alone; its directory goes either way.
        if (try? ProcessControl.owns(warm.pid, executableName: engineName, workingDirectory: directory)) == true {
            await ProcessControl.terminate(warm.pid, grace: .seconds(2))
        }
        // Already gone, or busy: warm directories are only scratch, removed again at next start.
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Makes `warm` the node `node`; returns its PID. On failure the warm process is stopped and
    /// its directory removed, so the node can start cold.
    func adopt(_ warm: WarmNode, as node: NodeSpec, pool: WarmNodePool) async throws -> Int32 {
        let warmDirectory = "\(warmDirectory)/\(warm.id)"
        let directory = nodeDirectory(node.name)
        guard try ProcessControl.owns(warm.pid, executableName: engineName, workingDirectory: warmDirectory) else {
            await discard(warm)
            throw ProcessError("warm node \(warm.id) on port \(warm.port) is no longer running")
        }
        guard !FileManager.default.fileExists(atPath: directory) else {
            await discard(warm)
            throw ProcessError("\(directory) already exists; a warm node is adopted only by a node never started")
        }
        do {
            try Self.makePrivateDirectory("\(dataDirectory)/nodes")
            try FileManager.default.moveItem(atPath: warmDirectory, toPath: directory)
            // The warm certificate names the warm node: the node gets its own, as a cold start would.
            // Unreadable, nothing to remove: issuing the node's own certificate below fails loudly instead.
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix("tls-") {
                try FileManager.default.removeItem(atPath: "\(directory)/\(name)")
            }
            let config = try nodeConfig(node, in: directory)
            try Self.writePrivateFile("\(directory)/redis.conf", config.render())
            // No `dir`: it is protected, and Redis reports its working directory as `dir`, which
            // the rename already moved.
            var settings = ["CONFIG", "SET", "maxmemory", String(node.maxmemoryBytes), "masteruser", node.admin.user, "masterauth", node.admin.password]
            if let tls = config.tls {
                settings += ["tls-cert-file", tls.certificate, "tls-key-file", tls.key, "tls-ca-cert-file", tls.authority]
            }
            settings += Self.arguments(of: RedisDirectives.from(node.parameters))
            // A primary keeps its shard's slots (it never passes through the minority); a replica
            // gives up all of them, as CLUSTER REPLICATE requires.
            var commands = [settings]
            let others = Self.complement(of: node.slots)
            if node.slots.isEmpty {
                commands.append(["CLUSTER", "FLUSHSLOTS"])
            } else if !others.isEmpty {
                commands.append(["CLUSTER", "DELSLOTSRANGE"] + others.flatMap { [String($0.first), String($0.last)] })
            }
            // `default` always: the warm node's is off, whatever the cluster's ACL says.
            commands += Self.userCommands(node, defaultRules: node.defaultUserRules ?? NodeConfig.openDefaultUserRules)
            // Last: the pipeline runs as the pool's admin until here.
            commands.append(["ACL", "SETUSER", node.admin.user, "resetpass", ">\(node.admin.password)"])
            let address = NodeAddress(port: warm.port, tls: warm.tls)
            let replies = try await client(for: address).send(commands, to: address, as: pool.admin)
            for reply in replies { _ = try reply.orThrow() }
            logger.info(
                "adopted warm node", metadata: ["node.name": "\(node.name)", "node.pid": "\(warm.pid)", "node.port": "\(node.port)", "warm.id": "\(warm.id)"])
            return warm.pid
        } catch {
            await ProcessControl.killNow(warm.pid)
            // Cleaning up after the adoption failed; the error below is what the caller hears.
            try? FileManager.default.removeItem(atPath: warmDirectory)
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }
}

extension LocalDataPlane {
    /// The slots not in `ranges`, as ranges.
    static func complement(of ranges: [SlotRange]) -> [SlotRange] {
        var result: [SlotRange] = []
        var next = 0
        for range in ranges.sorted(by: { $0.first < $1.first }) {
            if range.first > next { result.append(SlotRange(first: next, last: range.first - 1)) }
            next = max(next, range.last + 1)
        }
        if next < SlotRange.slotCount { result.append(SlotRange(first: next, last: SlotRange.slotCount - 1)) }
        return result
    }
}

