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
    public var client: RedisClient
    public var logger: Logger

    public init(dataDirectory: String, enginePath: String, proxyExecutable: String, client: RedisClient = RedisClient(), logger: Logger) {
        self.dataDirectory = dataDirectory
        self.enginePath = enginePath
        self.proxyExecutable = proxyExecutable
        self.client = client
        self.logger = logger
    }

    public func nodeDirectory(_ name: String) -> String { "\(dataDirectory)/nodes/\(name)" }
    public func clusterDirectory(_ name: String) -> String { "\(dataDirectory)/clusters/\(name)" }

    private var engineName: String { URL(fileURLWithPath: enginePath).lastPathComponent }
    private var proxyName: String { URL(fileURLWithPath: proxyExecutable).lastPathComponent }

    // MARK: Nodes

    public func runningNodePID(_ node: NodeSpec) -> Int32? {
        let directory = nodeDirectory(node.name)
        var candidates: [Int32] = []
        if let recorded = node.recordedPID { candidates.append(recorded) }
        if let text = try? String(contentsOfFile: "\(directory)/redis.pid", encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            candidates.append(pid)
        }
        if let pid = candidates.first(where: { ProcessControl.owns($0, executableName: engineName, workingDirectory: directory) }) {
            return pid
        }
        // A crash between spawning and recording leaves no trace but the process itself.
        return ProcessControl.findProcess(executableName: engineName, workingDirectory: directory)
    }

    public func startNode(_ node: NodeSpec) async throws -> Int32 {
        let directory = nodeDirectory(node.name)
        try Self.makePrivateDirectory(directory)
        let config = NodeConfig(
            port: node.port, busPort: node.busPort, directory: directory,
            maxmemoryBytes: node.maxmemoryBytes, admin: node.admin)
        let configPath = "\(directory)/redis.conf"
        try Self.writePrivateFile(configPath, config.render())
        let pid = try ProcessControl.spawnDetached([enginePath, configPath], workingDirectory: directory)
        logger.info("started node", metadata: ["node.name": "\(node.name)", "node.pid": "\(pid)", "node.port": "\(node.port)"])
        return pid
    }

    public func stopNode(_ node: NodeSpec) async {
        guard let pid = runningNodePID(node) else { return }
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
        let replies = try await client.send(
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

    public func setConfigEpoch(_ node: NodeSpec, epoch: Int) async throws {
        _ = try await client.command("CLUSTER", "SET-CONFIG-EPOCH", String(epoch), to: node.address, as: node.admin)
    }

    public func meet(_ node: NodeSpec, peer: NodeSpec) async throws {
        _ = try await client.command(
            "CLUSTER", "MEET", peer.address.host, String(peer.port), String(peer.busPort),
            to: node.address, as: node.admin)
    }

    public func addSlots(_ node: NodeSpec, _ ranges: [SlotRange]) async throws {
        var command = ["CLUSTER", "ADDSLOTSRANGE"]
        for range in ranges { command += [String(range.first), String(range.last)] }
        _ = try await client.send([command], to: node.address, as: node.admin)[0].orThrow()
    }

    public func replicate(_ node: NodeSpec, primaryID: String) async throws {
        _ = try await client.command("CLUSTER", "REPLICATE", primaryID, to: node.address, as: node.admin)
    }

    // MARK: Endpoints

    public func runningEndpointPID(_ endpoint: EndpointSpec) -> Int32? {
        let directory = clusterDirectory(endpoint.clusterName)
        if let text = try? String(contentsOfFile: "\(directory)/endpoint.pid", encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            ProcessControl.owns(pid, executableName: proxyName, workingDirectory: directory)
        {
            return pid
        }
        // A crash between spawning and writing the pid file leaves only the process.
        guard FileManager.default.fileExists(atPath: directory) else { return nil }
        return ProcessControl.findProcess(executableName: proxyName, workingDirectory: directory)
    }

    public func startEndpoint(_ endpoint: EndpointSpec) async throws -> Int32 {
        let directory = clusterDirectory(endpoint.clusterName)
        try Self.makePrivateDirectory(directory)
        try Self.writePrivateFile(
            "\(directory)/endpoint.backends", endpoint.backendPorts.map { "127.0.0.1:\($0)" }.joined(separator: "\n") + "\n")
        if let pid = runningEndpointPID(endpoint) { return pid }
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
        let reply = try? await client.command("PING", to: NodeAddress(port: endpoint.port), as: credentials)
        return reply?.string == "PONG"
    }

    public func removeEndpoint(_ endpoint: EndpointSpec) async throws {
        if let pid = runningEndpointPID(endpoint) {
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
        let temporary = path + ".tmp"
        FileManager.default.createFile(atPath: temporary, contents: Data(contents.utf8), attributes: [.posixPermissions: 0o600])
        guard FileManager.default.fileExists(atPath: temporary) else {
            throw ProcessError("cannot write \(temporary)")
        }
        if rename(temporary, path) != 0 {
            throw ProcessError("cannot move \(temporary) into place: \(String(cString: strerror(errno)))")
        }
    }
}
