import Engine
import Testing
import Ports

@Suite struct NodeConfigTests {
    let config = NodeConfig(
        port: 7001, busPort: 17001, directory: "/data/nodes/demo-0001-001", maxmemoryBytes: 1_000_000,
        admin: NodeCredentials(user: "memoryplane-admin", password: "s3cret"))

    func lines() -> Set<String> { Set(config.render().split(separator: "\n").map(String.init)) }

    @Test(arguments: [
        "bind 127.0.0.1", "port 7001", "cluster-port 17001", "cluster-enabled yes", "appendonly yes",
        "appendfsync always", "cluster-replica-no-failover yes", "dir /data/nodes/demo-0001-001", "maxmemory 1000000",
        "masteruser memoryplane-admin", "masterauth s3cret", "repl-diskless-sync-delay 0", "repl-ping-replica-period 1", "daemonize no",
    ])
    func rendersTheManagedSettings(line: String) {
        #expect(lines().contains(line))
    }

    @Test func defaultUserLosesTheRestrictedCommands() throws {
        let defaultUser = try #require(lines().first { $0.hasPrefix("user default ") })
        #expect(defaultUser.contains("-config"))
        #expect(defaultUser.contains("-cluster|meet"))
        #expect(defaultUser.hasSuffix("-cluster|saveconfig"))
        let admin = try #require(lines().first { $0.hasPrefix("user memoryplane-admin ") })
        #expect(admin == "user memoryplane-admin on >s3cret ~* &* +@all")
    }
}

@Suite struct RedisDirectivesTests {
    @Test func bufferLimitsJoinIntoOneDirectiveAndEmptyValuesAreQuoted() {
        let directives = RedisDirectives.from([
            "client-output-buffer-limit-normal-hard-limit": "0", "client-output-buffer-limit-normal-soft-limit": "0",
            "client-output-buffer-limit-normal-soft-seconds": "0", "client-output-buffer-limit-pubsub-hard-limit": "33554432",
            "client-output-buffer-limit-pubsub-soft-limit": "8388608", "client-output-buffer-limit-pubsub-soft-seconds": "60",
            "timeout": "300", "notify-keyspace-events": "",
        ])
        #expect(directives.map(\.name) == ["client-output-buffer-limit", "notify-keyspace-events", "timeout"])
        #expect(directives[0].value == "normal 0 0 0 pubsub 33554432 8388608 60")
        var config = NodeConfig(port: 1, busPort: 2, directory: "/d", maxmemoryBytes: 1, admin: NodeCredentials(user: "a", password: "b"))
        config.parameters = ["notify-keyspace-events": "", "maxmemory-policy": "allkeys-lru"]
        #expect(config.render().contains("notify-keyspace-events \"\"\n"))
        #expect(config.render().contains("maxmemory-policy allkeys-lru\n"))
    }
}
