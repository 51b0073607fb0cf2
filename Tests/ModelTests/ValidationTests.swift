import Model
import Testing

@Suite struct ResourceNameTests {
    @Test(arguments: ["demo", "a", "my-cluster-1", "MyRedis6x", String(repeating: "a", count: 40)])
    func acceptsValidNames(name: String) throws {
        #expect(try ResourceName.normalise(name, field: "name") == name.lowercased())
    }

    @Test(arguments: ["", "1abc", "-abc", "abc-", "a--b", "a_b", "a.b", "ä", "a b", String(repeating: "a", count: 41)])
    func refusesInvalidNames(name: String) {
        #expect(throws: MemoryDBError.self) { try ResourceName.normalise(name, field: "name") }
    }

    @Test func errorNamesTheField() {
        do {
            _ = try ResourceName.normalise("1bad", field: "aclName")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidParameterValue)
            #expect(error.message.contains("aclName"))
        }
    }
}

@Suite struct ClusterSpecTests {
    func request(_ change: (inout CreateClusterRequest) -> Void = { _ in }) -> CreateClusterRequest {
        var request = CreateClusterRequest(name: "Demo", nodeType: "db.t4g.small", aclName: "open-access", tlsEnabled: false)
        change(&request)
        return request
    }

    func failure(_ change: (inout CreateClusterRequest) -> Void) -> MemoryDBError? {
        do {
            _ = try ClusterSpec(validating: request(change))
            return nil
        } catch {
            return error
        }
    }

    @Test func appliesMemoryDBDefaults() throws {
        let spec = try ClusterSpec(validating: request())
        #expect(spec.name == "demo")
        #expect(spec.numShards == 1)
        #expect(spec.numReplicasPerShard == 1)
        #expect(spec.totalNodes == 2)
        #expect(spec.tags.isEmpty)
    }

    @Test func tlsIsTheDefault() throws {
        let spec = try ClusterSpec(validating: request { $0.tlsEnabled = nil })
        #expect(spec.tlsEnabled)
    }

    @Test func securityGroupIdsAreCheckedAndKept() throws {
        #expect(try ClusterSpec(validating: request { $0.securityGroupIds = ["sg-0abc123", "sg-1"] }).securityGroupIds == ["sg-0abc123", "sg-1"])
        #expect(failure { $0.securityGroupIds = ["sg-1", "sg-1"] }?.message.contains("twice") == true)
        #expect(failure { $0.securityGroupIds = ["group-1"] }?.code == .invalidParameterValue)
        #expect(failure { $0.securityGroupIds = (1...6).map { "sg-\($0)" } }?.message.contains("at most 5") == true)
    }

    @Test func tlsOffRequiresOpenAccess() {
        let error = failure { $0.aclName = "my-acl" }
        #expect(error?.code == .invalidParameterCombination)
        #expect(error?.message.contains("open-access") == true)
    }

    @Test func boundsAreEnforcedWithTheFieldNamed() {
        #expect(failure { $0.numShards = 0 }?.message.contains("numShards") == true)
        #expect(failure { $0.numShards = 501 }?.message.contains("numShards") == true)
        #expect(failure { $0.numReplicasPerShard = -1 }?.message.contains("numReplicasPerShard") == true)
        #expect(failure { $0.numReplicasPerShard = 6 }?.message.contains("numReplicasPerShard") == true)
        #expect(failure { $0.port = 80 }?.message.contains("port") == true)
        #expect(failure { $0.description = String(repeating: "x", count: 1025) }?.message.contains("description") == true)
    }

    @Test func tooManyNodesIsANodeQuotaFault() {
        #expect(failure { $0.numShards = 100; $0.numReplicasPerShard = 5 }?.code == .nodeQuotaForClusterExceeded)
    }

    @Test func unknownAndDataTieringNodeTypesAreRefused() {
        #expect(failure { $0.nodeType = "cache.m5.large" }?.message.contains("nodeType") == true)
        #expect(failure { $0.nodeType = "db.r6gd.xlarge" }?.code == .invalidParameterCombination)
    }

    @Test func tagsAreChecked() {
        #expect(failure { $0.tags = [Tag(key: "", value: "x")] }?.message.contains("tag key") == true)
        #expect(failure { $0.tags = [Tag(key: "a", value: "1"), Tag(key: "a", value: "2")] }?.message.contains("more than once") == true)
        #expect(failure { $0.tags = [Tag(key: "aws:x", value: "1")] } != nil)
        #expect(failure { $0.tags = (0...200).map { Tag(key: "k\($0)", value: "v") } }?.code == .tagQuotaPerResourceExceeded)
    }

    @Test func nodeTypeMemoryFollowsTheCatalog() throws {
        let small = try NodeType.named("db.t4g.small")
        #expect(small.memoryBytes > 1_400_000_000 && small.memoryBytes < 1_500_000_000)
        #expect(try NodeType.named("db.r7g.large").memoryBytes > 13 * 1024 * 1024 * 1024)
    }
}
