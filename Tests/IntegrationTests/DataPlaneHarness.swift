import Control
import Runtime
import Reconciler
import Engine
import Foundation
import Logging
import Model
import ServiceLifecycle
import Store
import Testing

#if canImport(Glibc)
import Glibc
import Ports
#endif

/// A control plane over a temporary data directory with real `redis-server` nodes.
///
/// `with` always tears down: it cancels the reconcilers, stops every process found running in
/// the directory (proven ours by executable and working directory) and deletes the directory,
/// whether the test passed, failed or threw.
final class DataPlaneHarness: @unchecked Sendable {
    let directory: String
    let configuration: ControlConfiguration
    let dataPlane: LocalDataPlane
    let logger: Logger
    private var reconcilerTasks: [Task<Void, Never>] = []
    private(set) var store: Store
    /// The control plane as `serve` wires it (`ControlPlane`), rebuilt by each start.
    private(set) var controlPlane: ControlPlane!
    var service: ClusterService { controlPlane.clusters }

    /// `redis-server` from PATH, as `serve` finds it.
    static let enginePath: String = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/redis-server") {
            return "\(directory)/redis-server"
        }
        return "/usr/bin/redis-server"
    }()

    /// The `memoryplane` executable built beside the test bundle; it serves cluster endpoints.
    static var proxyExecutable: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0])
        var directory = bundle.deletingLastPathComponent()
        if !bundle.path.hasSuffix(".xctest") {
            // swift-testing's runner is the bundle itself or a helper inside it.
            while directory.path != "/" && !FileManager.default.fileExists(atPath: directory.appendingPathComponent("memoryplane").path) {
                directory = directory.deletingLastPathComponent()
            }
        }
        return directory.appendingPathComponent("memoryplane").path
    }

    private init(ports: ClosedRange<Int>) throws {
        directory = "/tmp/mp-it-\(getpid())-\(UUID().uuidString.prefix(8))"
        try LocalDataPlane.makePrivateDirectory(directory)
        var logger = Logger(label: "integration")
        logger.logLevel = .warning
        self.logger = logger
        let version = try EngineProbe.version(of: Self.enginePath)
        configuration = ControlConfiguration(nodePorts: ports, engineVersion: version, waitTimeout: .seconds(30))
        dataPlane = LocalDataPlane(dataDirectory: directory, enginePath: Self.enginePath, proxyExecutable: Self.proxyExecutable, logger: logger)
        store = try Store.open(path: "\(directory)/memoryplane.sqlite")
    }

    static func with(ports: ClosedRange<Int>, snapshotting: Bool = true, _ body: (DataPlaneHarness) async throws -> Void) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: enginePath), "redis-server is not installed; run make test")
        try #require(FileManager.default.isExecutableFile(atPath: proxyExecutable), "build memoryplane first (swift build): \(proxyExecutable)")
        let harness = try DataPlaneHarness(ports: ports)
        do {
            harness.startControlPlane(snapshotting: snapshotting)
            try await body(harness)
        } catch {
            await harness.tearDown()
            throw error
        }
        await harness.tearDown()
    }

    /// Starts a control plane (service + reconciler) over the directory, as `serve` would.
    func startControlPlane(reconciling: Bool = true, snapshotting: Bool = true) {
        let controlPlane = ControlPlane(
            configuration: configuration, store: store, dataPlane: dataPlane, capabilities: DataPlaneCapabilities(metrics: dataPlane, warmNodes: dataPlane),
            snapshotStorage: SnapshotStorage(dataDirectory: directory), logger: logger)
        self.controlPlane = controlPlane
        if reconciling {
            for service in controlPlane.backgroundServices where snapshotting || !(service is SnapshotWorker) {
                reconcilerTasks.append(Task { try? await service.run() })
            }
        }
    }

    /// Stops the control plane the way a crash does: nodes keep running, nothing is cleaned up.
    func crashControlPlane() async throws {
        for task in reconcilerTasks { task.cancel() }
        for task in reconcilerTasks { await task.value }
        reconcilerTasks = []
        store = try Store.open(path: "\(directory)/memoryplane.sqlite")
    }

    func tearDown() async {
        for task in reconcilerTasks { task.cancel() }
        for task in reconcilerTasks { await task.value }
        dataPlane.links.shutdown()
        let root = URL(fileURLWithPath: directory)
        for (kind, executable) in [("nodes", "redis-server"), ("clusters", "memoryplane")] {
            let parent = root.appendingPathComponent(kind)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? [] {
                let dir = parent.appendingPathComponent(name).path
                while let pid = try? ProcessControl.findProcess(executableName: executable, workingDirectory: dir) {
                    await ProcessControl.terminate(pid, grace: .seconds(2))
                }
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Waits for a cluster to settle and requires it to be available.
    func waitAvailable(_ name: String) async throws -> ClusterView {
        let view = try #require(try await service.waitUntilSettled(name, timeout: .seconds(30)))
        let nodes = view.shards.flatMap(\.nodes).map { "\($0.name) \($0.status.rawValue) \($0.role.rawValue)" }
        let events = (try? store.events(sourceName: name).map(\.message)) ?? []
        try #require(view.status == .available, "cluster \(name) is \(view.status) after 30 s; nodes \(nodes); last error \(view.lastError ?? "none"); events \(events)")
        return view
    }

    /// PIDs of the running processes of every node of a cluster, by node name.
    func nodePIDs(_ cluster: String) throws -> [String: Int32] {
        var pids: [String: Int32] = [:]
        for node in try store.nodes(ofCluster: cluster) {
            let dir = dataPlane.nodeDirectory(node.name)
            if let pid = try? ProcessControl.findProcess(executableName: "redis-server", workingDirectory: dir) { pids[node.name] = pid }
        }
        return pids
    }

    /// Any process still running from this directory.
    func anyProcessLeft() -> Bool {
        let root = URL(fileURLWithPath: directory)
        for kind in ["nodes", "clusters"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(kind).path)) ?? [] {
                let dir = root.appendingPathComponent(kind).appendingPathComponent(name).path
                if (try? ProcessControl.findProcess(executableName: "redis-server", workingDirectory: dir)) != nil
                    || (try? ProcessControl.findProcess(executableName: "memoryplane", workingDirectory: dir)) != nil
                {
                    return true
                }
            }
        }
        return false
    }

    /// Polls `condition` every 50 ms for up to `timeout`.
    func eventually(_ timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if (try? await condition()) == true { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }
}
