import API
import ArgumentParser
import Control
import Engine
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import Model
import Runtime
import Ports
import Store

/// `memoryplane serve`: the API, the reconciler and the supervisor over one data directory.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the control plane API and supervise the data nodes."
    )

    enum AuthMode: String, ExpressibleByArgument, CaseIterable {
        /// HTTP Basic with the admin key pair from `<data-dir>/credentials`.
        case key
        /// No authentication; refused unless the server listens on loopback only.
        case none
    }

    @Option(help: "Address to listen on. Loopback by default: the API is private unless you say otherwise.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8080

    @Option(help: "Directory for the database, credentials and node files.")
    var dataDir = "./.memoryplane"

    @Option(help: "Ports for data nodes and cluster endpoints, START-END; a node's cluster bus port is its port + 10000.")
    var nodePortRange = "7000-7999"

    @Option(help: "The redis-server executable (default: redis-server found on PATH).")
    var enginePath: String?

    @Option(help: "Authentication: 'key' (the admin key pair in <data-dir>/credentials) or 'none' (loopback only).")
    var auth: AuthMode = .key

    @Option(help: "Admin access key id to use instead of a generated one (or MEMORYPLANE_ACCESS_KEY_ID); written to <data-dir>/credentials.")
    var accessKeyId: String?

    @Option(help: "Admin secret access key (prefer MEMORYPLANE_SECRET_ACCESS_KEY: a flag is visible in the process list).")
    var secretAccessKey: String?

    enum APITLS: String, ExpressibleByArgument, CaseIterable {
        /// Plain HTTP (the default on loopback).
        case off
        /// HTTPS with a certificate the data directory's CA issues for localhost and 127.0.0.1.
        case auto
    }

    @Option(help: "HTTPS for the API: 'off' or 'auto' (a certificate from the local CA, trusted via <data-dir>/ca.pem).")
    var tls: APITLS = .off

    @Option(help: "HTTPS for the API with this certificate chain (PEM); needs --tls-key.")
    var tlsCert: String?

    @Option(help: "The private key (PEM) for --tls-cert.")
    var tlsKey: String?

    @Option(help: "Milliseconds a running node may leave its liveness probe (a PING on a kept-open connection every 200 ms to primaries, every 2 s to replicas) unanswered before it counts as hung: a hung primary is killed and its shard fails over (100-10000).")
    var nodeFailureTimeout = 500

    @Option(help: "Seconds between full observations of a settled cluster (1-60); a node or endpoint that dies, and a node that hangs, wakes its cluster at once.")
    var supervisionInterval = 10

    @Option(help: "Where CopySnapshot with TargetBucket writes plain RDB files (<export-dir>/<bucket>/), and where SnapshotArns (arn:aws:s3:::<bucket>/<key>) are read from (default: <data-dir>/exports).")
    var exportDir: String?

    @Option(help: "A MemoryDB price list in AWS's Price List offer-file format (the prices of reserved-node offerings, plans' cost estimates and the advisor). Default: the bundled sample, whose rates are illustrative (see docs/cost.md).")
    var priceList: String?

    @Option(help: "Stop clusters tagged memoryplane:stop-when-idle=true once no node has processed a read or write command for this long (90s, 30m, 2h), keeping their data. Off unless given.")
    var stopIdleAfter: String?

    @Option(help: "Seconds between readings of every node's metrics (INFO all) for /metrics, alarms and the advisor (1-300).")
    var metricsInterval = 10

    enum AuditMode: String, ExpressibleByArgument, CaseIterable {
        case on, off
    }

    @Option(help: "The audit trail of API calls: 'on' (default) or 'off' (for measuring its cost: calls through the doors are not recorded).")
    var audit: AuditMode = .on

    @Option(help: "Days the audit trail (GET /v1/audit) keeps its records (1-3650).")
    var auditRetentionDays = 90

    @Option(help: "Nodes of each kind (plain and TLS) kept started ahead of time, past Redis' 2 s writable delay, for new clusters to adopt: creation is then ready in a fraction of a second (0-64; 0, the default, keeps none). Each takes a port of --node-port-range and an idle redis-server.")
    var warmNodes = 0

    @Option(help: .hidden)
    var faultHook: String?

    @Flag(help: "Serve /metrics without authentication (for a Prometheus without credentials); the rest of the API stays authenticated.")
    var metricsPublic = false

    @Option(help: "Region used in ARNs and availability zone names.")
    var region = "us-east-1"

    @Option(help: "12-digit account id used in ARNs.")
    var accountId = "000000000000"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    @Option(help: "API connections open at once; past it new ones get 503 (default: half the descriptor limit, at most 4096).")
    var maxConnections: Int?

    @Option(help: "Seconds a new API connection has to send its first request's headers (TLS handshake included).")
    var headerTimeout = 10

    @Option(help: "Seconds an API connection may stay open with no request in progress.")
    var idleTimeout = 60

    func validate() throws {
        _ = try portRange()
        guard (1...3650).contains(auditRetentionDays) else { throw ValidationError("--audit-retention-days must be between 1 and 3650; got \(auditRetentionDays).") }
        guard (1...300).contains(metricsInterval) else { throw ValidationError("--metrics-interval must be between 1 and 300 seconds; got \(metricsInterval).") }
        guard (0...64).contains(warmNodes) else { throw ValidationError("--warm-nodes must be between 0 and 64; got \(warmNodes).") }
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535; got \(port).") }
        if auth == .none && !Self.isLoopback(host) {
            throw ValidationError("--auth none is only allowed when --host is a loopback address (127.0.0.1, ::1, localhost); got '\(host)'.")
        }
        guard accountId.count == 12, accountId.allSatisfy(\.isNumber) else {
            throw ValidationError("--account-id must be 12 digits; got '\(accountId)'.")
        }
        if (tlsCert == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-cert and --tls-key go together.")
        }
        if tlsCert != nil && tls == .auto {
            throw ValidationError("Use either --tls auto or --tls-cert/--tls-key, not both.")
        }
        for path in [tlsCert, tlsKey].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: path) {
            throw ValidationError("\(path) cannot be read.")
        }
        let (keyID, secret) = givenKeys()
        if (keyID == nil) != (secret == nil) {
            throw ValidationError("Give both an access key id and a secret access key (flags or MEMORYPLANE_ACCESS_KEY_ID / MEMORYPLANE_SECRET_ACCESS_KEY), or neither.")
        }
        if let keyID, !(16...128).contains(keyID.count) || !keyID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            throw ValidationError("The access key id must be 16 to 128 letters and digits.")
        }
        if let secret, secret.count < 16 || secret.contains(where: { $0.isWhitespace }) {
            throw ValidationError("The secret access key must be at least 16 characters without spaces.")
        }
        if let maxConnections, maxConnections < 1 {
            throw ValidationError("--max-connections must be at least 1; got \(maxConnections).")
        }
        guard (1...3600).contains(headerTimeout) else { throw ValidationError("--header-timeout must be 1 to 3600 seconds; got \(headerTimeout).") }
        guard (1...86400).contains(idleTimeout) else { throw ValidationError("--idle-timeout must be 1 to 86400 seconds; got \(idleTimeout).") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical.")
        }
    }

    /// Keys given by flag or, failing that, by environment (for CI).
    func givenKeys() -> (String?, String?) {
        let environment = ProcessInfo.processInfo.environment
        return (accessKeyId ?? environment["MEMORYPLANE_ACCESS_KEY_ID"], secretAccessKey ?? environment["MEMORYPLANE_SECRET_ACCESS_KEY"])
    }

    func portRange() throws -> ClosedRange<Int> {
        let parts = nodePortRange.split(separator: "-").map { Int($0) }
        guard parts.count == 2, let start = parts[0], let end = parts[1], start <= end else {
            throw ValidationError("--node-port-range must be START-END, e.g. 7000-7999; got '\(nodePortRange)'.")
        }
        guard start >= 1024, end + 10000 <= 65535 else {
            throw ValidationError("--node-port-range must lie within 1024-55535 so that bus ports (port + 10000) exist; got '\(nodePortRange)'.")
        }
        return start...end
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The API is served over TLS (its own certificate, or one from the node CA).
    var servesTLS: Bool { tls == .auto || tlsCert != nil }

    func run() async throws {
        // Every file under the data dir (SQLite's WAL and SHM, node files, certificates) is the
        // owner's alone; redis-server and the endpoint processes inherit the mask.
        umask(0o077)
        let descriptorLimit = ResourceLimits.raiseDescriptorLimit()
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "memoryplane")

        // Everything that can be refused is checked before anything is written.
        let engine = try resolveEngine()
        let engineVersion = try EngineProbe.version(of: engine)
        let dataDirectory = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        try LocalDataPlane.makePrivateDirectory(dataDirectory)
        let lock: DataDirectoryLock
        do {
            lock = try DataDirectoryLock(dataDirectory: dataDirectory)
        } catch {
            FileHandle.standardError.write(Data("memoryplane: \(error)\n".utf8))
            throw ExitCode.failure
        }
        // Held until the process ends (the kernel drops it on any exit).
        defer { withExtendedLifetime(lock) {} }
        let store = try Store.open(path: "\(dataDirectory)/memoryplane.sqlite")
        chmod("\(dataDirectory)/memoryplane.sqlite", 0o600)

        let credentialsPath = "\(dataDirectory)/credentials"
        let accessKeys = try self.accessKeys(store: store, dataDirectory: dataDirectory, credentialsPath: credentialsPath, logger: logger)

        var configuration = ControlConfiguration(
            region: region, accountID: accountId, nodePorts: try portRange(), engineVersion: engineVersion)
        if let modified = (try? FileManager.default.attributesOfItem(atPath: engine))?[.modificationDate] as? Date {
            configuration.engineReleasedAt = Int64(modified.timeIntervalSince1970 * 1000)
        }
        let certificates = CertificateAuthorityProvider(dataDirectory: dataDirectory)
        let dataPlane = try localDataPlane(dataDirectory: dataDirectory, engine: engine, certificates: certificates, logger: logger)
        let controlPlane = ControlPlane(
            configuration: configuration, store: store, dataPlane: dataPlane,
            capabilities: DataPlaneCapabilities(metrics: dataPlane, warmNodes: dataPlane),
            normaliser: RedisRulesNormaliser(enginePath: engine, scratchDirectory: "\(dataDirectory)/scratch"),
            supervisionInterval: .seconds(supervisionInterval),
            snapshotStorage: SnapshotStorage(dataDirectory: dataDirectory, exportDirectory: exportDir.map { URL(fileURLWithPath: $0).standardizedFileURL.path }),
            metricsInterval: .seconds(metricsInterval), auditRetentionDays: auditRetentionDays, faults: dataPlane.faults,
            priceList: try loadPriceList(), stopIdleAfter: try idleLimit(), logger: logger)
        try controlPlane.stacks.recoverInterruptedRuns()
        let limits = connectionLimits(descriptorLimit: descriptorLimit, logger: logger)
        let app = buildApplication(
            controlPlane: controlPlane, accessKeys: accessKeys,
            credentialsHint: "Use HTTP Basic with the key pair in \(credentialsPath) (profile \(AccessKey.profile)), e.g. curl -u KEY_ID:SECRET.",
            caCertificate: { try certificates.authority().certificatePEM },
            server: try serverBuilder(
                dataDirectory: dataDirectory, certificates: certificates, limits: limits, clock: controlPlane.configuration.clock, logger: logger),
            // A backlog as deep as the kernel allows (somaxconn): a burst of connections waits in
            // it instead of on SYN retries.
            configuration: .init(address: .hostname(host, port: port), serverName: "memoryplane", backlog: 4096),
            metricsPublic: metricsPublic, audit: audit == .on, secureCookies: servesTLS, logger: logger)
        logger.notice(
            "memoryplane serving",
            metadata: [
                "http.address": "\(host):\(port)", "data_dir": "\(dataDirectory)", "engine.path": "\(engine)",
                "engine.version": "\(engineVersion.patchVersion)", "auth": "\(auth.rawValue)",
                "http.scheme": "\(servesTLS ? "https" : "http")",
                "http.max_connections": "\(limits.maxConnections)", "process.descriptor_limit": "\(descriptorLimit)",
            ])
        try await app.runService()
        logger.notice("memoryplane stopped; data nodes keep running")
    }

    /// The access keys, with the credentials file's pair as the first admin key (created on
    /// first start, or the one given); nil with `--auth none`.
    func accessKeys(store: Store, dataDirectory: String, credentialsPath: String, logger: Logger) throws -> AccessKeyService? {
        guard auth == .key else {
            logger.warning("authentication is off (--auth none); the API is open to anyone on this machine")
            return nil
        }
        let (givenID, givenSecret) = givenKeys()
        let given = givenID.flatMap { id in givenSecret.map { AccessKey(id: id, secret: $0) } }
        let (key, created) = try AccessKey.loadOrCreate(at: credentialsPath, given: given)
        let keys = try AccessKeyService(store: store, sealer: try SecretSealer.load(dataDirectory: dataDirectory), clock: SystemWallClock())
        try keys.bootstrap(admin: key, givenByOperator: given != nil)
        // Neither the key id nor the secret is logged: the file (0600) is where they are read.
        logger.notice(
            created ? "created admin credentials" : "using admin credentials",
            metadata: [
                "credentials.path": "\(credentialsPath)", "credentials.profile": "\(AccessKey.profile)", "access_keys.count": "\(keys.list().count)",
            ])
        return keys
    }

    /// `--stop-idle-after`: a number of seconds, minutes or hours (`90s`, `30m`, `2h`; bare: seconds).
    func idleLimit() throws -> Duration? {
        guard let stopIdleAfter else { return nil }
        let unit = stopIdleAfter.last.flatMap { "smh".contains($0) ? $0 : nil }
        let digits = unit == nil ? stopIdleAfter : String(stopIdleAfter.dropLast())
        guard let value = Int(digits), value > 0, value <= 7 * 24 * 3600 else {
            throw ValidationError("--stop-idle-after must be a positive number of seconds, minutes or hours (90s, 30m, 2h); got '\(stopIdleAfter)'.")
        }
        return .seconds(value * (unit == "m" ? 60 : unit == "h" ? 3600 : 1))
    }

    /// The `--price-list` file, read and checked before anything starts; nil: the bundled sample.
    func loadPriceList() throws -> PriceList? {
        guard let priceList else { return nil }
        guard let data = FileManager.default.contents(atPath: priceList) else { throw ValidationError("--price-list \(priceList): cannot be read.") }
        do {
            return try PriceListFile.parse(data, name: priceList)
        } catch {
            throw ValidationError("--price-list: \(error.message)")
        }
    }

    /// The data plane: nodes under the data directory, probed for liveness, with the warm pool
    /// and the fault hook when asked for.
    func localDataPlane(dataDirectory: String, engine: String, certificates: CertificateAuthorityProvider, logger: Logger) throws -> LocalDataPlane {
        guard (100...10000).contains(nodeFailureTimeout) else {
            throw ValidationError("--node-failure-timeout must be 100-10000 milliseconds; got \(nodeFailureTimeout).")
        }
        guard (1...60).contains(supervisionInterval) else {
            throw ValidationError("--supervision-interval must be 1-60 seconds; got \(supervisionInterval).")
        }
        let links = NodeLinks(
            silenceThreshold: .milliseconds(Int64(nodeFailureTimeout)), tlsContext: { try certificates.clientContext() })
        var dataPlane = LocalDataPlane(
            dataDirectory: dataDirectory, enginePath: engine, proxyExecutable: Self.ownExecutable(), logger: logger,
            certificates: certificates, links: links)
        dataPlane.faults = faultHook.map { CommandFaultHook(path: $0) }
        if warmNodes > 0 {
            var generator = SystemRandomNumberGenerator()
            let password = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
            dataPlane.warmPool = WarmNodePool(
                size: warmNodes, admin: NodeCredentials(user: ClusterService.adminUserName, password: password),
                isAlive: { pid in try? ProcessControl.isAlive(pid) })
        }
        return dataPlane
    }

    /// Connection limits from the flags, the default sized by the descriptor limit.
    func connectionLimits(descriptorLimit: Int, logger: Logger) -> ConnectionLimits {
        let limits = ConnectionLimits(
            maxConnections: maxConnections ?? ConnectionLimits.defaultMaxConnections(descriptorLimit: descriptorLimit),
            headerTimeout: .seconds(headerTimeout), idleTimeout: .seconds(idleTimeout))
        if limits.maxConnections > descriptorLimit - 64 {
            logger.warning(
                "--max-connections is close to the descriptor limit; exhaustion is possible",
                metadata: ["http.max_connections": "\(limits.maxConnections)", "process.descriptor_limit": "\(descriptorLimit)"])
        }
        return limits
    }

    /// Plain HTTP/1.1, or HTTPS with the given certificate or one from the local CA.
    func serverBuilder(
        dataDirectory: String, certificates: CertificateAuthorityProvider, limits: ConnectionLimits, clock: any WallClock, logger: Logger
    ) throws -> HTTPServerBuilder {
        let counter = ConnectionCounter(limit: limits.maxConnections, clock: clock, logger: logger)
        let chainPEM: String
        let keyPEM: String
        if let tlsCert, let tlsKey {
            chainPEM = try String(contentsOfFile: tlsCert, encoding: .utf8)
            keyPEM = try String(contentsOfFile: tlsKey, encoding: .utf8)
        } else if tls == .auto {
            let names = host == "127.0.0.1" || host == "localhost" || host == "::1" ? [] : [host]
            let issued = try certificates.authority().issue(commonName: "memoryplane-api", names: names)
            chainPEM = issued.certificatePEM
            keyPEM = issued.keyPEM
            try LocalDataPlane.writePrivateFile("\(dataDirectory)/tls/api.crt", chainPEM)
            try LocalDataPlane.writePrivateFile("\(dataDirectory)/tls/api.key", keyPEM)
        } else {
            return .guardedHTTP1(limits: limits, counter: counter)
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(chainPEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)))
        configuration.minimumTLSVersion = .tlsv12
        let tlsConfiguration = configuration
        return .guardedHTTP1(limits: limits, counter: counter) { try TLSChannel($0, tlsConfiguration: tlsConfiguration) }
    }

    func resolveEngine() throws -> String {
        if let enginePath {
            guard FileManager.default.isExecutableFile(atPath: enginePath) else {
                throw ValidationError("--engine-path \(enginePath) is not an executable file.")
            }
            return enginePath
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw ValidationError("redis-server was not found on PATH; install it (apt-get install redis-server) or pass --engine-path.")
    }

    static func ownExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
