import Foundation
import Logging
import Model
import Ports

/// The real data plane: `redis-server` processes and endpoint forwarders on this machine.
///
/// Layout under the data directory: `nodes/<node>/` (redis.conf, nodes.conf, appendonly/,
/// redis.log, redis.pid) and `clusters/<cluster>/` (endpoint.backends, endpoint.pid).
public struct LocalDataPlane: DataPlane {
    public var dataDirectory: String
    public var enginePath: String
    /// The `memoryplane` executable, run as `memoryplane endpoint-proxy` for cluster endpoints.
    public var proxyExecutable: String
    public var logger: Logger
    /// The data directory's CA, made the first time a TLS node needs it.
    public let certificates: CertificateAuthorityProvider
    private let plainClient: RedisClient
    /// One kept-open connection per node: the liveness probe (how a hung node is noticed within
    /// its `silenceThreshold`) and the routine observations and samples.
    public let links: NodeLinks
    /// Nodes started ahead of time (`serve --warm-nodes`); nil keeps none.
    public var warmPool: WarmNodePool?
    /// How long an observation may take: a node that does not answer in this time is reported
    /// as not answering, and the pass goes on (the liveness probe judges whether it is hung).
    public var observationTimeout: Duration = .milliseconds(800)
    /// Told of each boundary of a slot hand-over; nil outside fault tests.
    public var faults: (any FaultInjector)?

    public init(
        dataDirectory: String, enginePath: String, proxyExecutable: String, client: RedisClient = RedisClient(), logger: Logger,
        certificates: CertificateAuthorityProvider? = nil, links: NodeLinks? = nil
    ) {
        self.dataDirectory = dataDirectory
        self.enginePath = enginePath
        self.proxyExecutable = proxyExecutable
        self.plainClient = client
        self.logger = logger
        let certificates = certificates ?? CertificateAuthorityProvider(dataDirectory: dataDirectory)
        self.certificates = certificates
        self.links = links ?? NodeLinks(tlsContext: { try certificates.clientContext() })
    }

    /// A client able to talk to `address`: TLS nodes need the CA to verify them.
    func client(for address: NodeAddress, timeout: Duration? = nil) throws -> RedisClient {
        var client = plainClient
        if let timeout { client.timeout = timeout }
        guard address.tls else { return client }
        client.tlsContext = try certificates.clientContext()
        return client
    }

    /// Runs routine commands on the node's kept-open link, or on a connection of their own when
    /// it has none yet (just started, or not watched).
    func exchange(_ commands: [[String]], with node: NodeSpec, timeout: Duration) async throws -> [RESPValue] {
        if let replies = try await links.send(commands, to: node.name, at: node.address, timeout: timeout) { return replies }
        return try await client(for: node.address, timeout: timeout).send(commands, to: node.address, as: node.admin)
    }

    public func nodeDirectory(_ name: String) -> String { "\(dataDirectory)/nodes/\(name)" }
    /// Where short-lived scratch servers run.
    public var scratchDirectory: String { "\(dataDirectory)/scratch" }
    public func clusterDirectory(_ name: String) -> String { "\(dataDirectory)/clusters/\(name)" }

    var engineName: String { URL(fileURLWithPath: enginePath).lastPathComponent }
    private var proxyName: String { URL(fileURLWithPath: proxyExecutable).lastPathComponent }

    // MARK: Nodes

    public func runningNodePID(_ node: NodeSpec) throws -> Int32? {
        let directory = nodeDirectory(node.name)
        var candidates: [Int32] = []
        if let recorded = node.recordedPID { candidates.append(recorded) }
        // No pid file: the node never started (or its directory is gone); the recorded PID decides.
        if let text = try? String(contentsOfFile: "\(directory)/redis.pid", encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            candidates.append(pid)
        }
        for pid in candidates where try ProcessControl.owns(pid, executableName: engineName, workingDirectory: directory) {
            return pid
        }
        // A crash between spawning and recording leaves no trace but the process itself.
        return try ProcessControl.findProcess(executableName: engineName, workingDirectory: directory)
    }

    /// Starts the node, or adopts the warm node promised to its port (`--warm-nodes`); an
    /// adoption that fails leaves nothing behind, and the node starts cold.
    public func startNode(_ node: NodeSpec) async throws -> Int32 {
        if let pool = warmPool, let warm = pool.claim(port: node.port) {
            do {
                return try await adopt(warm, as: node, pool: pool)
            } catch {
                logger.warning("warm node not adopted; starting cold", metadata: ["node.name": "\(node.name)", "error": "\(error)"])
            }
        }
        let directory = nodeDirectory(node.name)
        try Self.makePrivateDirectory(directory)
        let config = try nodeConfig(node, in: directory)
        let configPath = "\(directory)/redis.conf"
        try Self.writePrivateFile(configPath, config.render())
        let pid = try ProcessControl.spawnDetached([enginePath, configPath], workingDirectory: directory)
        logger.info("started node", metadata: ["node.name": "\(node.name)", "node.pid": "\(pid)", "node.port": "\(node.port)"])
        return pid
    }

    /// The node's whole configuration (its `redis.conf`), issuing its certificate when due.
    func nodeConfig(_ node: NodeSpec, in directory: String) throws -> NodeConfig {
        var config = NodeConfig(
            port: node.port, busPort: node.busPort, directory: directory,
            maxmemoryBytes: node.maxmemoryBytes, admin: node.admin)
        if node.tls { config.tls = try certificateFiles(for: node, in: directory) }
        config.parameters = node.parameters
        config.users = node.aclUsers
        config.defaultUserRules = node.defaultUserRules
        return config
    }

    public func stopNode(_ node: NodeSpec) async {
        // A warm node promised to this one and never adopted (its cluster went first).
        if let pool = warmPool, let warm = pool.claim(port: node.port) { await discard(warm) }
        // Out of descriptors: the node is left alone; the next pass stops it.
        guard let pid = try? runningNodePID(node) else { return }
        await ProcessControl.terminate(pid)
        logger.info("stopped node", metadata: ["node.name": "\(node.name)", "node.pid": "\(pid)"])
    }

    public func removeNodeFiles(_ node: NodeSpec) throws {
        let directory = nodeDirectory(node.name)
        if FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.removeItem(atPath: directory)
        }
    }

    public func observe(_ node: NodeSpec) async throws -> NodeObservation {
        let replies = try await exchange(
            [["CLUSTER", "MYID"], ["CLUSTER", "NODES"], ["CLUSTER", "INFO"], ["INFO", "replication"], ["INFO", "memory"]],
            with: node, timeout: observationTimeout)
        let myID = try replies[0].text()
        let members = ClusterNodesEntry.parse(try replies[1].text())
        let clusterInfo = NodeObservation.infoFields(try replies[2].text())
        let replication = NodeObservation.infoFields(try replies[3].text())
        let memory = NodeObservation.infoFields(try replies[4].text())
        let isPrimary = replication["role"] == "master"
        return NodeObservation(
            myID: myID,
            members: members,
            clusterStateOK: clusterInfo["cluster_state"] == "ok",
            isPrimary: isPrimary,
            primaryLinkUp: !isPrimary && replication["master_link_status"] == "up"
                && replication["master_sync_in_progress"] != "1",
            syncInProgress: replication["master_sync_in_progress"] == "1",
            replicationOffset: Int64(replication["master_repl_offset"] ?? "") ?? 0,
            usedMemory: Int64(memory["used_memory"] ?? "") ?? 0,
            maxmemory: Int64(memory["maxmemory"] ?? "")
        )
    }

    public func setMaxmemory(_ node: NodeSpec) async throws {
        _ = try await client(for: node.address).command(
            "CONFIG", "SET", "maxmemory", String(node.maxmemoryBytes), to: node.address, as: node.admin)
    }

    public func forget(_ node: NodeSpec, id: String) async throws {
        let reply = try await client(for: node.address).send([["CLUSTER", "FORGET", id]], to: node.address, as: node.admin)[0]
        if case .error(let message) = reply, !message.contains("Unknown node") {
            throw RedisReplyError("CLUSTER FORGET \(id) on \(node.name): \(message)")
        }
    }

    // MARK: Failover

    public func killNode(_ node: NodeSpec) async -> Int64? {
        // Not running, or not ours, or the process table cannot be read (out of descriptors):
        // nothing to kill now; the caller's next pass looks again.
        guard let pid = try? runningNodePID(node) else { return nil }
        // The offset is worth a 100 ms wait only from a node that is answering at all.
        var offset: Int64?
        if links.liveness(of: node.name) == .answering, let position = try? await replicationPosition(node, timeout: .milliseconds(100), linked: true) {
            offset = position.offset
        }
        await ProcessControl.killNow(pid)
        logger.notice("killed node", metadata: ["node.name": "\(node.name)", "node.pid": "\(pid)"])
        return offset
    }

    public func discardData(_ node: NodeSpec) throws {
        let directory = nodeDirectory(node.name)
        for name in ["appendonly", "dump.rdb"] where FileManager.default.fileExists(atPath: "\(directory)/\(name)") {
            try FileManager.default.removeItem(atPath: "\(directory)/\(name)")
        }
    }

    /// Where a node's replication stream stands: its replication id (a replica reports its
    /// primary's), offset and role.
    struct ReplicationPosition {
        var replicationID: String
        var offset: Int64
        var isPrimary: Bool
    }

    /// `linked`: over the kept-open link (a routine look); a failover's steps use their own
    /// connections, so nothing queued on the link can delay them.
    func replicationPosition(_ node: NodeSpec, timeout: Duration? = nil, linked: Bool = false) async throws -> ReplicationPosition {
        let reply: RESPValue
        if linked {
            reply = try await exchange([["INFO", "replication"]], with: node, timeout: timeout ?? plainClient.timeout)[0].orThrow()
        } else {
            reply = try await client(for: node.address, timeout: timeout).command("INFO", "replication", to: node.address, as: node.admin)
        }
        let fields = NodeObservation.infoFields(try reply.text())
        return ReplicationPosition(
            replicationID: fields["master_replid"] ?? "", offset: Int64(fields["master_repl_offset"] ?? "") ?? 0,
            isPrimary: fields["role"] == "master")
    }

    public func promote(_ replica: NodeSpec, demoting primary: NodeSpec?) async throws -> PromotionReport {
        let clock = ContinuousClock()
        let started = clock.now
        var primaryOffset: Int64?
        let point = { (name: String) in
            FaultPoint(
                name, cluster: FaultPoint.cluster(ofNode: replica.name), nodes: primary.map { ["replica": replica.name, "primary": $0.name] } ?? ["replica": replica.name])
        }
        if let primary {
            // Fence: from here the old primary holds every write; none it acknowledges can be
            // missing from the replica. The pause lifts by itself if this control plane dies.
            let client = try client(for: primary.address)
            _ = try await client.command("CLIENT", "PAUSE", "5000", "WRITE", to: primary.address, as: primary.admin)
            await faults?.reached(point("promote.paused"))
            let target = try await replicationPosition(primary)
            primaryOffset = target.offset
            let deadline = clock.now + .seconds(3)
            while true {
                let position = try await replicationPosition(replica)
                if position.replicationID == target.replicationID && position.offset >= target.offset { break }
                guard clock.now < deadline else {
                    // Best effort: the pause ends by itself at its timeout if this does not get through.
                    _ = try? await client.command("CLIENT", "UNPAUSE", to: primary.address, as: primary.admin)
                    throw PromotionError(
                        "replica \(replica.name) reached offset \(position.offset) of \(target.offset) (stream \(position.replicationID.prefix(8)) vs \(target.replicationID.prefix(8))) within 3 s; not promoted")
                }
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        await faults?.reached(point("promote.caught-up"))
        let replicaOffset = try await replicationPosition(replica).offset
        // TAKEOVER needs no vote and no handshake: safe here because the old primary is paused
        // (or gone), and it never silently reverts as a repeated graceful FAILOVER can.
        let replicaClient = try client(for: replica.address)
        _ = try await replicaClient.command("CLUSTER", "FAILOVER", "TAKEOVER", to: replica.address, as: replica.admin)
        let deadline = clock.now + .seconds(2)
        while try await !replicationPosition(replica).isPrimary {
            guard clock.now < deadline else {
                throw PromotionError("replica \(replica.name) was told to take over and is still a replica after 2 s", tookOver: true)
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        await faults?.reached(point("promote.took-over"))
        if let primary {
            // Writes held on the old primary must meet a replica when released: they then get
            // MOVED to the new primary instead of landing where they would be thrown away.
            let client = try client(for: primary.address)
            let deadline = clock.now + .seconds(3)
            while true {
                let nodes = ClusterNodesEntry.parse(try await client.command("CLUSTER", "NODES", to: primary.address, as: primary.admin).text())
                if let myself = nodes.first(where: \.isMyself), !myself.isPrimary || myself.slots.isEmpty { break }
                guard clock.now < deadline else {
                    throw PromotionError(
                        "old primary \(primary.name) still serves its slots 3 s after \(replica.name) took over; it stays paused", tookOver: true)
                }
                try await Task.sleep(for: .milliseconds(2))
            }
            _ = try await client.command("CLIENT", "UNPAUSE", to: primary.address, as: primary.admin)
        }
        let elapsed = clock.now - started
        return PromotionReport(
            replicaOffset: replicaOffset, primaryOffset: primaryOffset,
            pausedMilliseconds: primary == nil ? 0 : elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
    }

    // MARK: Liveness

    public func watch(cluster: String, nodes: [NodeSpec], onChange: @escaping @Sendable () -> Void) {
        links.watch(
            cluster: cluster, nodes: Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, LinkTarget(address: $0.address, credentials: $0.admin, urgent: $0.isPrimary)) }),
            onChange: onChange)
    }

    public func liveness(of node: NodeSpec) -> NodeLiveness {
        links.liveness(of: node.name)
    }

    public func unwatch(cluster: String) {
        links.unwatch(cluster: cluster)
    }

    public func applyParameters(_ node: NodeSpec, _ values: [String: String]) async throws {
        let directives = RedisDirectives.from(values)
        guard !directives.isEmpty else { return }
        _ = try await client(for: node.address).send([["CONFIG", "SET"] + Self.arguments(of: directives)], to: node.address, as: node.admin)[0].orThrow()
    }

    /// `CONFIG SET`'s name/value arguments for directives.
    static func arguments(of directives: [(name: String, value: String)]) -> [String] {
        directives.flatMap { [$0.name, $0.value] }
    }

    /// `ACL SETUSER ... reset <rules>` for each of the node's client users, then for `default`
    /// with `defaultRules`.
    static func userCommands(_ node: NodeSpec, defaultRules: String?) -> [[String]] {
        var commands: [[String]] = []
        for (name, rules) in node.aclUsers.sorted(by: { $0.key < $1.key }) {
            commands.append(["ACL", "SETUSER", name, "reset"] + rules.split(separator: " ").map(String.init))
        }
        if let rules = defaultRules {
            commands.append(["ACL", "SETUSER", "default", "reset"] + rules.split(separator: " ").map(String.init))
        }
        return commands
    }

    public func applyACL(_ node: NodeSpec) async throws {
        let client = try client(for: node.address)
        var commands = Self.userCommands(node, defaultRules: node.defaultUserRules)
        commands.append(["ACL", "USERS"])
        let replies = try await client.send(commands, to: node.address, as: node.admin)
        for reply in replies.dropLast() { _ = try reply.orThrow() }
        let present = (try replies.last!.orThrow().array ?? []).compactMap(\.string)
        let keep = Set(node.aclUsers.keys).union(["default", node.admin.user])
        let extra = present.filter { !keep.contains($0) }
        if !extra.isEmpty {
            // Deleting a user also disconnects its clients.
            _ = try await client.send([["ACL", "DELUSER"] + extra], to: node.address, as: node.admin)[0].orThrow()
        }
    }

    public func setConfigEpoch(_ node: NodeSpec, epoch: Int) async throws {
        _ = try await client(for: node.address).command("CLUSTER", "SET-CONFIG-EPOCH", String(epoch), to: node.address, as: node.admin)
    }

    public func meet(_ node: NodeSpec, peer: NodeSpec) async throws {
        _ = try await client(for: node.address).command(
            "CLUSTER", "MEET", peer.address.host, String(peer.port), String(peer.busPort),
            to: node.address, as: node.admin)
    }

    public func addSlots(_ node: NodeSpec, _ ranges: [SlotRange]) async throws {
        var command = ["CLUSTER", "ADDSLOTSRANGE"]
        for range in ranges { command += [String(range.first), String(range.last)] }
        _ = try await client(for: node.address).send([command], to: node.address, as: node.admin)[0].orThrow()
    }

    public func replicate(_ node: NodeSpec, primaryID: String) async throws {
        _ = try await client(for: node.address).command("CLUSTER", "REPLICATE", primaryID, to: node.address, as: node.admin)
    }

    // MARK: Endpoints

    public func runningEndpointPID(_ endpoint: EndpointSpec) throws -> Int32? {
        let directory = clusterDirectory(endpoint.clusterName)
        // No pid file: the endpoint never started; the caller starts it.
        if let text = try? String(contentsOfFile: "\(directory)/endpoint.pid", encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            try ProcessControl.owns(pid, executableName: proxyName, workingDirectory: directory)
        {
            return pid
        }
        // A crash between spawning and writing the pid file leaves only the process.
        guard FileManager.default.fileExists(atPath: directory) else { return nil }
        return try ProcessControl.findProcess(executableName: proxyName, workingDirectory: directory)
    }

    public func startEndpoint(_ endpoint: EndpointSpec) async throws -> Int32 {
        let directory = clusterDirectory(endpoint.clusterName)
        try Self.makePrivateDirectory(directory)
        try setEndpointBackends(endpoint)
        if let pid = try runningEndpointPID(endpoint) { return pid }
        let pid = try ProcessControl.spawnDetached(
            [proxyExecutable, "endpoint-proxy", "--port", String(endpoint.port), "--backends", "\(directory)/endpoint.backends"],
            workingDirectory: directory)
        try Self.writePrivateFile("\(directory)/endpoint.pid", "\(pid)\n")
        logger.info(
            "started cluster endpoint",
            metadata: ["cluster.name": "\(endpoint.clusterName)", "endpoint.pid": "\(pid)", "endpoint.port": "\(endpoint.port)"])
        return pid
    }

    public func endpointBackends(_ endpoint: EndpointSpec) -> [EndpointBackend] {
        let path = "\(clusterDirectory(endpoint.clusterName))/endpoint.backends"
        // No backends file yet: the endpoint has no backends, which the reconciler then writes.
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return EndpointBackend.parseFile(text).map { EndpointBackend(port: $0.port, role: $0.role) }
    }

    public func setEndpointBackends(_ endpoint: EndpointSpec) throws {
        let directory = clusterDirectory(endpoint.clusterName)
        try Self.makePrivateDirectory(directory)
        try Self.writePrivateFile("\(directory)/endpoint.backends", endpoint.backends.map(\.description).joined(separator: "\n") + "\n")
    }

    public func endpointAnswers(_ endpoint: EndpointSpec, as credentials: NodeCredentials) async -> Bool {
        let address = NodeAddress(port: endpoint.port, tls: endpoint.tls)
        // Any failure to get PONG back is the answer asked for: it does not forward (yet).
        let reply = try? await client(for: address).command("PING", to: address, as: credentials)
        return reply?.string == "PONG"
    }

    // MARK: Certificates

    /// The node's current certificate pair (`tls-<issued>.crt/.key`, newest wins), issued now when
    /// there is none or it is due for renewal; the CA is copied beside it.
    func certificateFiles(for node: NodeSpec, in directory: String) throws -> NodeConfig.TLSFiles {
        let authority = try certificates.authority()
        try Self.writePrivateFile("\(directory)/ca.pem", authority.certificatePEM)
        if let current = currentCertificate(in: directory), !Self.isDue(current.certificate) {
            return NodeConfig.TLSFiles(certificate: current.certificate, key: current.key, authority: "\(directory)/ca.pem")
        }
        return try issueCertificate(for: node, in: directory)
    }

    func issueCertificate(for node: NodeSpec, in directory: String) throws -> NodeConfig.TLSFiles {
        let authority = try certificates.authority()
        let issued = try authority.issue(commonName: node.name, names: [node.name])
        let stamp = Int(Date().timeIntervalSince1970 * 1000)
        let files = NodeConfig.TLSFiles(
            certificate: "\(directory)/tls-\(stamp).crt", key: "\(directory)/tls-\(stamp).key", authority: "\(directory)/ca.pem")
        try Self.writePrivateFile(files.key, issued.keyPEM)
        try Self.writePrivateFile(files.certificate, issued.certificatePEM)
        return files
    }

    func currentCertificate(in directory: String) -> (certificate: String, key: String)? {
        // No directory yet: no certificate, so one is issued.
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard let newest = names.filter({ $0.hasPrefix("tls-") && $0.hasSuffix(".crt") }).max(by: { $0.count == $1.count ? $0 < $1 : $0.count < $1.count }) else {
            return nil
        }
        let key = "\(directory)/\(newest.dropLast(4)).key"
        guard FileManager.default.fileExists(atPath: key) else { return nil }
        return ("\(directory)/\(newest)", key)
    }

    static func isDue(_ certificatePath: String, now: Date = Date()) -> Bool {
        // An unreadable or missing certificate is treated as none: a new one is issued.
        guard let pem = try? String(contentsOfFile: certificatePath, encoding: .utf8),
            let expiry = CertificateAuthority.expiry(ofPEM: pem)
        else { return true }
        return expiry.timeIntervalSince(now) < CertificateAuthority.renewalWindow
    }

    public func renewCertificateIfDue(_ node: NodeSpec) async throws -> Bool {
        guard node.tls else { return false }
        let directory = nodeDirectory(node.name)
        guard let current = currentCertificate(in: directory), Self.isDue(current.certificate) else { return false }
        let files = try issueCertificate(for: node, in: directory)
        // A new file name makes Redis reload its TLS context; existing connections carry on.
        _ = try await client(for: node.address).command(
            "CONFIG", "SET", "tls-cert-file", files.certificate, "tls-key-file", files.key, to: node.address, as: node.admin)
        // The node runs on the new files now; an old pair left behind is only unused (the newest
        // pair is the one `currentCertificate` picks).
        try? FileManager.default.removeItem(atPath: current.certificate)
        try? FileManager.default.removeItem(atPath: current.key)
        logger.notice("renewed node certificate", metadata: ["node.name": "\(node.name)", "tls.certificate": "\(files.certificate)"])
        return true
    }

    public func removeEndpoint(_ endpoint: EndpointSpec) async throws {
        if let pid = try runningEndpointPID(endpoint) {
            await ProcessControl.terminate(pid, grace: .seconds(1))
        }
        let directory = clusterDirectory(endpoint.clusterName)
        if FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.removeItem(atPath: directory)
        }
    }

    // MARK: Files

    /// Creates a directory (and its parents) readable only by this user.
    public static func makePrivateDirectory(_ path: String) throws { try PrivateDirectory.make(path) }

    /// Writes a file atomically with mode 0600.
    public static func writePrivateFile(_ path: String, _ contents: String) throws {
        try writeFile(path, contents, mode: 0o600)
    }

    static func writeFile(_ path: String, _ contents: String, mode: Int) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(contents.utf8), attributes: [.posixPermissions: mode]) else {
            throw ProcessError("cannot write \(temporary)")
        }
        if rename(temporary, path) != 0 {
            throw ProcessError("cannot move \(temporary) into place: \(String(cString: strerror(errno)))")
        }
    }
}
