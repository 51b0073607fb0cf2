import Control
import Runtime
import Reconciler
import Foundation
import Testing
import Ports

/// Every metric's derivation from recorded `INFO all` output (Redis 7.0.15), and its exposition.
@Suite struct NodeMetricsTests {
    /// Trimmed from a real primary of a 1×1 cluster after `redis-benchmark -t set,get -n 2000`.
    static let primaryInfo = """
        # Server
        redis_version:7.0.15
        # Clients
        connected_clients:3
        # Memory
        used_memory:1823368
        maxmemory:1471026298
        # Stats
        total_connections_received:189
        total_net_input_bytes:181829
        total_net_output_bytes:338318
        total_net_repl_input_bytes:0
        total_net_repl_output_bytes:90296
        expired_keys:4
        evicted_keys:7
        keyspace_hits:2000
        keyspace_misses:12
        # Replication
        role:master
        connected_slaves:1
        slave0:ip=127.0.0.1,port=22202,state=online,offset=90037,lag=1
        # CPU
        used_cpu_sys_main_thread:0.078883
        used_cpu_user_main_thread:0.047883
        # Commandstats
        cmdstat_set:calls=2000,usec=555,usec_per_call=0.28,rejected_calls=0,failed_calls=0
        cmdstat_get:calls=2000,usec=440,usec_per_call=0.22,rejected_calls=0,failed_calls=0
        cmdstat_keys:calls=3,usec=90,usec_per_call=30.00,rejected_calls=0,failed_calls=0
        # Errorstats
        errorstat_WRONGPASS:count=5
        # Keyspace
        db0:keys=1500,expires=0,avg_ttl=0
        """

    static let categories: [String: Set<String>] = [
        "set": ["write", "string", "slow"], "get": ["read", "string", "fast"], "keys": ["keyspace", "read", "slow", "dangerous"],
    ]

    func context(primary: Bool = true, lag: Double? = nil) -> NodeMetrics.Context {
        NodeMetrics.Context(isPrimary: primary, hostAvailableMemory: 8 << 30, replicationLag: lag, categories: Self.categories)
    }

    @Test func gaugesAndCountersComeFromTheirInfoFields() {
        var sample = NodeSample.parse(info: Self.primaryInfo, processCPUSeconds: 12, takenAt: 100)
        sample.aclDenials = ["command": 2, "key": 3]
        let values = NodeMetrics.derive(sample, previous: nil, context: context())
        #expect(values["BytesUsedForMemoryDB"] == 1_823_368)
        #expect(values["DatabaseMemoryUsagePercentage"].map { abs($0 - 0.12395) < 0.0001 } == true)
        #expect(values["FreeableMemory"] == Double(8 << 30))
        #expect(values["CurrConnections"] == 3 && values["NewConnections"] == 189)
        #expect(values["CurrItems"] == 1500)
        #expect(values["KeyspaceHits"] == 2000 && values["KeyspaceMisses"] == 12)
        #expect(values["Evictions"] == 7 && values["Reclaimed"] == 4)
        #expect(values["NetworkBytesIn"] == 181_829 && values["NetworkBytesOut"] == 338_318)
        #expect(values["ReplicationBytes"] == 90296)
        #expect(values["ReplicationLag"] == nil)  // a primary has none
        #expect(values["IsPrimary"] == 1)
        #expect(values["AuthenticationFailures"] == 5)  // WRONGPASS on 7.0
        #expect(values["CommandAuthorizationFailures"] == 2 && values["KeyAuthorizationFailures"] == 3 && values["ChannelAuthorizationFailures"] == 0)
        #expect(values["GetTypeCmds"] == 2003)  // get and keys are @read
        #expect(values["SetTypeCmds"] == 2000 && values["StringBasedCmds"] == 4000 && values["KeyBasedCmds"] == 3)
        // Rates need a previous sample.
        #expect(values["CPUUtilization"] == nil && values["EngineCPUUtilization"] == nil && values["GetTypeCmdsLatency"] == nil)
    }

    @Test func ratesComeFromTheChangeSinceThePreviousSample() {
        let before = NodeSample.parse(info: Self.primaryInfo, processCPUSeconds: 12, takenAt: 100)
        var text = Self.primaryInfo.replacingOccurrences(of: "cmdstat_get:calls=2000,usec=440", with: "cmdstat_get:calls=3000,usec=2440")
        text = text.replacingOccurrences(of: "used_cpu_user_main_thread:0.047883", with: "used_cpu_user_main_thread:1.047883")
        let after = NodeSample.parse(info: text, processCPUSeconds: 13, takenAt: 110)
        let values = NodeMetrics.derive(after, previous: before, context: context())
        #expect(values["CPUUtilization"].map { abs($0 - 10) < 0.001 } == true)  // 1 s of CPU in 10 s
        #expect(values["EngineCPUUtilization"].map { abs($0 - 10) < 0.001 } == true)
        #expect(values["GetTypeCmdsLatency"] == 2)  // 2000 µs over 1000 calls
        #expect(values["SetTypeCmdsLatency"] == 0)  // no calls in the interval
        // A restart resets Redis' counters: no latency from a negative interval.
        let restarted = NodeSample.parse(info: Self.primaryInfo.replacingOccurrences(of: "calls=2000,usec=440", with: "calls=5,usec=1"), processCPUSeconds: 0, takenAt: 120)
        #expect(NodeMetrics.derive(restarted, previous: after, context: context())["GetTypeCmdsLatency"] == nil)
    }

    @Test func aReplicaHasTheLagItsPrimaryReports() {
        let replica = NodeSample.parse(info: "role:slave\nused_memory:10\nmaxmemory:0\n", processCPUSeconds: nil, takenAt: 1)
        let values = NodeMetrics.derive(replica, previous: nil, context: context(primary: false, lag: 1))
        #expect(values["ReplicationLag"] == 1 && values["IsPrimary"] == 0)
        #expect(values["ReplicationBytes"] == nil && values["DatabaseMemoryUsagePercentage"] == nil)
        let primary = NodeSample.parse(info: Self.primaryInfo, processCPUSeconds: nil, takenAt: 1)
        #expect(primary.replicas[22202] == ReplicaLink(state: "online", offset: 90037, lagSeconds: 1))
    }

    @Test func theExpositionIsPrometheusTextWithCloudWatchNamesInHelp() {
        let labels = NodeLabels(cluster: "demo", shard: "0001", node: "demo-0001-001", role: "primary", availabilityZone: "us-east-1a")
        let text = MetricsExposition.render([NodeReading(labels: labels, values: ["CurrItems": 1500, "DatabaseMemoryUsagePercentage": 12.5], takenAt: 0)])
        #expect(text == """
            # HELP memorydb_database_memory_usage_percent CloudWatch DatabaseMemoryUsagePercentage: used_memory as a percentage of maxmemory (the node type's memory)
            # TYPE memorydb_database_memory_usage_percent gauge
            memorydb_database_memory_usage_percent{cluster="demo",shard="0001",node="demo-0001-001",role="primary",availability_zone="us-east-1a"} 12.500000
            # HELP memorydb_curr_items CloudWatch CurrItems: Keys in the node
            # TYPE memorydb_curr_items gauge
            memorydb_curr_items{cluster="demo",shard="0001",node="demo-0001-001",role="primary",availability_zone="us-east-1a"} 1500

            """)
        // Every definition has a distinct Prometheus name.
        #expect(Set(NodeMetrics.definitions.map(\.prometheusName)).count == NodeMetrics.definitions.count)
    }
}
