import Engine
import Testing

@Suite struct NodeConfigTests {
    let config = NodeConfig(
        port: 7001, busPort: 17001, directory: "/data/nodes/demo-0001-001", maxmemoryBytes: 1_000_000,
        admin: NodeCredentials(user: "memoryplane-admin", password: "s3cret"))

    func lines() -> Set<String> { Set(config.render().split(separator: "\n").map(String.init)) }

    @Test(arguments: [
        "bind 127.0.0.1", "port 7001", "cluster-port 17001", "cluster-enabled yes", "appendonly yes",
        "appendfsync always", "cluster-replica-no-failover yes", "dir /data/nodes/demo-0001-001", "maxmemory 1000000",
        "masteruser memoryplane-admin", "masterauth s3cret", "repl-diskless-sync-delay 0", "daemonize no",
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
