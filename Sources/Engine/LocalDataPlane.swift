import Foundation
import Logging
import Model

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

    public init(
        dataDirectory: String, enginePath: String, proxyExecutable: String, client: RedisClient = RedisClient(), logger: Logger,
        certificates: CertificateAuthorityProvider? = nil
    ) {
        self.dataDirectory = dataDirectory
        self.enginePath = enginePath
        self.proxyExecutable = proxyExecutable
        self.plainClient = client
        self.logger = logger
        self.certificates = certificates ?? CertificateAuthorityProvider(dataDirectory: dataDirectory)
    }

    /// A client able to talk to `address`: TLS nodes need the CA to verify them.
    func client(for address: NodeAddress) throws -> RedisClient {
        guard address.tls else { return plainClient }
        var client = plainClient
        client.tlsContext = try certificates.clientContext()
        return client
    }

    public func nodeDirectory(_ name: String) -> String { "\(dataDirectory)/nodes/\(name)" }
    public func clusterDirectory(_ name: String) -> String { "\(dataDirectory)/clusters/\(name)" }

    private var engineName: String { URL(fileURLWithPath: enginePath).lastPathComponent }
    private var proxyName: String { URL(fileURLWithPath: proxyExecutable).lastPathComponent }

    // MARK: Nodes

    public func runningNodePID(_ node: NodeSpec) throws -> Int32? {
        let directory = nodeDirectory(node.name)
        var candidates: [Int32] = []
        if let recorded = node.recordedPID { candidates.append(recorded) }
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

    public func startNode(_ node: NodeSpec) async throws -> Int32 {
        let directory = nodeDirectory(node.name)
        try Self.makePrivateDirectory(directory)
        var config = NodeConfig(
            port: node.port, busPort: node.busPort, directory: directory,
            maxmemoryBytes: node.maxmemoryBytes, admin: node.admin)
        if node.tls { config.tls = try certificateFiles(for: node, in: directory) }
        config.parameters = node.parameters
        config.users = node.aclUsers
        config.defaultUserRules = node.defaultUserRules
        let configPath = "\(directory)/redis.conf"
        try Self.writePrivateFile(configPath, config.render())
        let pid = try ProcessControl.spawnDetached([enginePath, configPath], workingDirectory: directory)
        logger.info("started node", metadata: ["node.name": "\(node.name)", "node.pid": "\(pid)", "node.port": "\(node.port)"])
        return pid
    }

    public func stopNode(_ node: NodeSpec) async {
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
        let replies = try await client(for: node.address).send(
            [["CLUSTER", "MYID"], ["CLUSTER", "NODES"], ["CLUSTER", "INFO"], ["INFO", "replication"]],
            to: node.address, as: node.admin)
        let myID = try replies[0].text()
        let members = ClusterNodesEntry.parse(try replies[1].text())
        let clusterInfo = NodeObservation.infoFields(try replies[2].text())
        let replication = NodeObservation.infoFields(try replies[3].text())
        let isPrimary = replication["role"] == "master"
        return NodeObservation(
            myID: myID,
            members: members,
            clusterStateOK: clusterInfo["cluster_state"] == "ok",
            isPrimary: isPrimary,
            primaryLinkUp: !isPrimary && replication["master_link_status"] == "up"
                && replication["master_sync_in_progress"] != "1"
        )
    }

    public func applyParameters(_ node: NodeSpec, _ values: [String: String]) async throws {
        let directives = RedisDirectives.from(values)
        guard !directives.isEmpty else { return }
        var command = ["CONFIG", "SET"]
        for directive in directives { command += [directive.name, directive.value] }
        _ = try await client(for: node.address).send([command], to: node.address, as: node.admin)[0].orThrow()
    }

    public func applyACL(_ node: NodeSpec) async throws {
        let client = try client(for: node.address)
        var commands: [[String]] = []
        for (name, rules) in node.aclUsers.sorted(by: { $0.key < $1.key }) {
            commands.append(["ACL", "SETUSER", name, "reset"] + rules.split(separator: " ").map(String.init))
        }
        if let rules = node.defaultUserRules {
            commands.append(["ACL", "SETUSER", "default", "reset"] + rules.split(separator: " ").map(String.init))
        }
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
        try Self.writePrivateFile(
            "\(directory)/endpoint.backends", endpoint.backendPorts.map { "127.0.0.1:\($0)" }.joined(separator: "\n") + "\n")
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

    public func endpointAnswers(_ endpoint: EndpointSpec, as credentials: NodeCredentials) async -> Bool {
        let address = NodeAddress(port: endpoint.port, tls: endpoint.tls)
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
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard let newest = names.filter({ $0.hasPrefix("tls-") && $0.hasSuffix(".crt") }).max(by: { $0.count == $1.count ? $0 < $1 : $0.count < $1.count }) else {
            return nil
        }
        let key = "\(directory)/\(newest.dropLast(4)).key"
        guard FileManager.default.fileExists(atPath: key) else { return nil }
        return ("\(directory)/\(newest)", key)
    }

    static func isDue(_ certificatePath: String, now: Date = Date()) -> Bool {
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
    public static func makePrivateDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
    }

    /// Writes a file atomically with mode 0600.
    public static func writePrivateFile(_ path: String, _ contents: String) throws {
        try writeFile(path, contents, mode: 0o600)
    }

    static func writeFile(_ path: String, _ contents: String, mode: Int) throws {
        let temporary = path + ".tmp"
        FileManager.default.createFile(atPath: temporary, contents: Data(contents.utf8), attributes: [.posixPermissions: mode])
        guard FileManager.default.fileExists(atPath: temporary) else {
            throw ProcessError("cannot write \(temporary)")
        }
        if rename(temporary, path) != 0 {
            throw ProcessError("cannot move \(temporary) into place: \(String(cString: strerror(errno)))")
        }
    }
}
