import Model
import Testing

@Suite struct SlotRangeTests {
    @Test func theComplementHoldsEverySlotNotGivenInOrder() {
        let given = [SlotRange(first: 100, last: 199), SlotRange(first: 0, last: 9), SlotRange(first: 150, last: 300)]
        #expect(SlotRange.complement(of: given).map(\.description) == ["10-99", "301-16383"])
        #expect(SlotRange.complement(of: []).map(\.description) == ["0-16383"])
        #expect(SlotRange.complement(of: [SlotRange(first: 0, last: 16383)]).isEmpty)
    }

    @Test(arguments: [0, 1, 12182, 16383])
    func aTagPlacesKeysInTheSlotAskedFor(slot: Int) {
        let tag = KeySlot.tag(forSlot: slot)
        #expect(KeySlot.of("{\(tag)}__memoryplane:handover:ready") == slot)
        #expect(KeySlot.of(tag) == slot)
    }

    @Test func twoShardsSplitAtTheMiddle() {
        #expect(SlotRange.evenSplit(shards: 2).map(\.description) == ["0-8191", "8192-16383"])
    }

    @Test func threeShardsGiveTheExtraSlotToTheFirst() {
        #expect(SlotRange.evenSplit(shards: 3).map(\.description) == ["0-5461", "5462-10922", "10923-16383"])
    }

    @Test(arguments: [1, 2, 3, 5, 7, 100, 500])
    func splitsAreContiguousEvenAndCoverEverySlot(shards: Int) {
        let ranges = SlotRange.evenSplit(shards: shards)
        #expect(ranges.count == shards)
        #expect(ranges.first?.first == 0)
        #expect(ranges.last?.last == 16383)
        for (previous, next) in zip(ranges, ranges.dropFirst()) {
            #expect(next.first == previous.last + 1)
        }
        let sizes = Set(ranges.map(\.count))
        #expect(sizes.max()! - sizes.min()! <= 1)
        #expect(ranges.map(\.count).reduce(0, +) == 16384)
    }
}

@Suite struct ClusterTopologyTests {
    @Test func namesFollowMemoryDB() {
        #expect(ClusterTopology.shardName(1) == "0001")
        #expect(ClusterTopology.nodeName(cluster: "demo", shardIndex: 2, nodeIndex: 3) == "demo-0002-003")
    }

    @Test func primaryAndReplicasLandInDifferentZones() {
        let zones = ClusterTopology.zones(region: "us-east-1")
        #expect(zones == ["us-east-1a", "us-east-1b", "us-east-1c"])
        for shard in 1...3 {
            let placed = (1...3).map { ClusterTopology.availabilityZone(shardIndex: shard, nodeIndex: $0, zones: zones) }
            #expect(Set(placed).count == 3)
        }
        let primaries = (1...3).map { ClusterTopology.availabilityZone(shardIndex: $0, nodeIndex: 1, zones: zones) }
        #expect(Set(primaries).count == 3)
    }
}

@Suite struct EngineVersionTests {
    @Test func parsesRedisServerVersionOutput() {
        let version = EngineVersion(redisVersionOutput: "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0\n")
        #expect(version == EngineVersion(major: 7, minor: 0, patch: 15))
        #expect(version?.engineVersion == "7.0")
        #expect(version?.parameterGroupFamily == "memorydb_redis7")
        #expect(version?.defaultParameterGroupName == "default.memorydb-redis7")
    }

    @Test func rejectsOutputWithoutAVersion() {
        #expect(EngineVersion(redisVersionOutput: "command not found") == nil)
        #expect(EngineVersion(redisVersionOutput: "v=7.x") == nil)
    }
}

@Suite struct RestrictedCommandsTests {
    @Test func denyRulesCoverTheCommandsThatBreakAManagedCluster() {
        let rules = RestrictedCommands.aclRules.split(separator: " ").map(String.init)
        for denied in ["-config", "-shutdown", "-debug", "-module", "-replicaof", "-slaveof", "-failover", "-save", "-bgsave", "-migrate", "-acl|setuser", "-acl|deluser", "-cluster|meet", "-cluster|addslots", "-cluster|reset", "-cluster|forget", "-cluster|setslot", "-client|pause", "-client|unpause"] {
            #expect(rules.contains(denied), "missing \(denied)")
        }
        for allowed in ["-cluster|slots", "-cluster|shards", "-cluster|nodes", "-cluster|info", "-cluster|keyslot", "-acl|whoami", "-get", "-set"] {
            #expect(!rules.contains(allowed), "\(allowed) must stay allowed")
        }
    }
}
