import Engine
import Model
import Testing
import Ports

@Suite struct ClusterNodesEntryTests {
    let sample = """
        af27bc1344ca3a5df85f321d05991b2350d85a9b 127.0.0.1:7002@17002 slave,nofailover 4c43ee8fa2199e465b3e42e7080c840a8410ec50 0 1795716554592 1 connected
        35b92bba6532b27d28c58202d19d14b43ce678a7 127.0.0.1:7003@17003 master,nofailover - 0 1795716555397 3 connected 8192-16383
        4c43ee8fa2199e465b3e42e7080c840a8410ec50 127.0.0.1:7001@17001,host myself,master - 0 1795716555000 1 connected 0-8190 8191 [8191->-35b92bba6532b27d28c58202d19d14b43ce678a7]
        e0a0 127.0.0.1:7009@17009 handshake - 0 0 0 disconnected
        garbage line

        """

    @Test func parsesMembersSlotsAndRoles() throws {
        let entries = ClusterNodesEntry.parse(sample)
        #expect(entries.count == 4)
        let myself = try #require(entries.first { $0.isMyself })
        #expect(myself.port == 7001)
        #expect(myself.host == "127.0.0.1")
        #expect(myself.slots == [SlotRange(first: 0, last: 8190), SlotRange(first: 8191, last: 8191)])
        let replica = entries[0]
        #expect(!replica.isPrimary)
        #expect(replica.primaryID == "4c43ee8fa2199e465b3e42e7080c840a8410ec50")
        #expect(entries[1].configEpoch == 3)
        #expect(entries[3].inHandshake)
        #expect(!entries[3].connected)
    }

    @Test func readsOpenMigrationsOfTheNodesOwnLine() throws {
        let line = "4c43 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-100 [100->-35b9] [200-<-af27] [bad]"
        let entry = try #require(ClusterNodesEntry.parse(line).first)
        #expect(entry.slots == [SlotRange(first: 0, last: 100)])
        #expect(entry.migrating == [100: "35b9"])
        #expect(entry.importing == [200: "af27"])
        let sampleMyself = try #require(ClusterNodesEntry.parse(sample).first { $0.isMyself })
        #expect(sampleMyself.migrating == [8191: "35b92bba6532b27d28c58202d19d14b43ce678a7"])
    }

    @Test func observationKnowsPeersButNotHandshakes() {
        let observation = NodeObservation(
            myID: "4c43ee8fa2199e465b3e42e7080c840a8410ec50", members: ClusterNodesEntry.parse(sample),
            clusterStateOK: true, isPrimary: true, primaryLinkUp: false)
        #expect(observation.knownPeerIDs == ["af27bc1344ca3a5df85f321d05991b2350d85a9b", "35b92bba6532b27d28c58202d19d14b43ce678a7"])
    }

    @Test func infoFieldsReadCRLFReplies() {
        let fields = NodeObservation.infoFields("# Replication\r\nrole:slave\r\nmaster_link_status:up\r\n")
        #expect(fields["role"] == "slave")
        #expect(fields["master_link_status"] == "up")
    }
}

/// INFO read from bytes, as the collector and the observation read it.
struct InfoTextTests {
    @Test func fieldsSkipHeadersBlanksAndLinesWithoutAColon() {
        let text = "# Server\r\nredis_version:7.0.15\r\nexecutable:/usr/bin/redis-server\r\n\r\n# Commandstats\r\ncmdstat_config|get:calls=3,usec=40\r\nnot a field\r\n  padded:yes  \r\nlast:1"
        let fields = InfoText.fields(text)
        #expect(fields == ["redis_version": "7.0.15", "executable": "/usr/bin/redis-server", "cmdstat_config|get": "calls=3,usec=40", "padded": "yes", "last": "1"])
    }

    @Test func pairsSplitOnCommasAndTheFirstEquals() {
        #expect(InfoText.pairs("ip=127.0.0.1,port=7001,state=online,offset=42,lag=0") == ["ip": "127.0.0.1", "port": "7001", "state": "online", "offset": "42", "lag": "0"])
        #expect(InfoText.pairs("a=b=c,,=x,d=") == ["a": "b=c", "d": ""])
        #expect(InfoText.pairs("") == [:])
    }

    @Test func commandStatsComeFromTheirLines() {
        let sample = NodeSample.parse(info: "cmdstat_set:calls=10,usec=50,usec_per_call=5.00\r\nused_memory:1024\r\n", processCPUSeconds: nil, takenAt: 0)
        #expect(sample.commandStats["set"] == CommandStat(calls: 10, usec: 50))
        #expect(sample.info["used_memory"] == "1024")
    }
}

/// CLUSTER SHARDS as Redis 7.0 answers it (RESP2: flat maps), read for the replicas a node
/// lists in its slot map.
@Suite struct ClusterShardsReplyTests {
    static func text(_ value: String) -> RESPValue { .bulkString(Array(value.utf8)) }

    static func member(_ role: String, port: Int, health: String, tls: Bool) -> RESPValue {
        .array([
            text("id"), text(String(repeating: "a", count: 40)), text(tls ? "tls-port" : "port"), .integer(port), text("ip"), text("127.0.0.1"),
            text("role"), text(role), text("replication-offset"), .integer(role == "master" ? 14 : 0), text("health"), text(health),
        ])
    }

    static func shard(slots: [Int], _ members: [RESPValue]) -> RESPValue {
        .array([text("slots"), .array(slots.map { .integer($0) }), text("nodes"), .array(members)])
    }

    @Test(arguments: [false, true])
    func aReplicaWhoseOffsetTheNodeHasNotHeardIsNotListed(tls: Bool) {
        let reply = RESPValue.array([
            Self.shard(slots: [0, 8191], [Self.member("master", port: 7001, health: "online", tls: tls), Self.member("replica", port: 7002, health: "online", tls: tls)]),
            // A new shard's primary owns no slots yet; its replica has not been heard from.
            Self.shard(slots: [], [Self.member("replica", port: 7004, health: "loading", tls: tls), Self.member("master", port: 7003, health: "online", tls: tls)]),
            Self.shard(slots: [8192, 16383], [Self.member("master", port: 7005, health: "online", tls: tls), Self.member("replica", port: 7006, health: "fail", tls: tls)]),
        ])
        let replicas = LocalDataPlane.healthyReplicas(in: reply)
        #expect(replicas == [7001: [7002], 7003: [], 7005: []])
    }

    @Test func anErrorOrAnUnexpectedShapeListsNothing() {
        #expect(LocalDataPlane.healthyReplicas(in: .error("ERR unknown subcommand")).isEmpty)
        #expect(LocalDataPlane.healthyReplicas(in: .array([.integer(1)])).isEmpty)
    }
}
