import Control
import Runtime
import Reconciler
import Foundation
import Model
import Testing
import Ports

/// The stack planner, pure: each kind of change, its order, why a replacement, secrets masked,
/// and who may own what.
@Suite struct StackPlannerTests {
    static let hashA = String(repeating: "a", count: 64)
    static let hashB = String(repeating: "b", count: 64)

    /// The issue's example, as the service prepares it (password hashed).
    func document() -> StackDocument {
        var cluster = StackCluster(name: "ci-cache", nodeType: "db.t4g.small", aclName: "ci-acl")
        cluster.numShards = 2
        cluster.numReplicasPerShard = 1
        cluster.parameterGroupName = "ci-tuned"
        return StackDocument(
            stack: "ci",
            parameterGroups: [StackParameterGroup(name: "ci-tuned", family: "memorydb_redis7", parameters: ["maxmemory-policy": "allkeys-lru"])],
            users: [
                StackUser(
                    name: "ci-app", accessString: "on ~app:* +@all",
                    authenticationMode: StackUser.AuthenticationMode(type: "password", passwordHashes: [Self.hashA]))
            ],
            acls: [StackACL(name: "ci-acl", userNames: ["ci-app"])],
            clusters: [cluster])
    }

    /// What exists after the document was applied as is.
    func live(_ document: StackDocument) -> LiveResources {
        var live = LiveResources()
        for group in document.parameterGroups { live.parameterGroups[group.name] = group }
        for user in document.users { live.users[user.name] = user }
        for acl in document.acls { live.acls[acl.name] = acl }
        for cluster in document.clusters {
            var existing = cluster
            existing.tlsEnabled = true
            existing.subnetGroupName = "default"
            existing.port = 7000
            existing.engineVersion = "7.1"
            existing.snapshotRetentionLimit = 0
            existing.description = "as created"
            live.clusters[cluster.name] = existing
        }
        return live
    }

    func owned(_ document: StackDocument, by stack: String = "ci") -> [StackResourceRef: String] {
        Dictionary(uniqueKeysWithValues: document.resources.map { ($0, stack) })
    }

    @Test func aNewStackCreatesEverythingInDependencyOrder() throws {
        let plan = try StackPlanner.plan(document(), live: LiveResources(), owners: [:])
        #expect(plan.changes.map { "\($0.action.rawValue) \($0.resource)" } == [
            "create parameter-group ci-tuned", "create user ci-app", "create acl ci-acl", "create cluster ci-cache",
        ])
        #expect(plan.summary.create == 4 && plan.hasChanges)
    }

    @Test func whatMatchesIsUnchanged() throws {
        let document = document()
        let plan = try StackPlanner.plan(document, live: live(document), owners: owned(document))
        #expect(!plan.hasChanges)
        #expect(plan.summary.unchanged == 4)
    }

    @Test func inPlaceChangesNameEachField() throws {
        let before = document()
        var after = before
        after.clusters[0].numShards = 3
        after.clusters[0].nodeType = "db.r7g.large"
        after.parameterGroups[0].parameters = ["maxmemory-samples": "7"]
        after.users[0].accessString = "on ~* +@read"
        after.acls[0].userNames = []
        let plan = try StackPlanner.plan(after, live: live(before), owners: owned(before))
        #expect(plan.changes.allSatisfy { $0.action == .update })
        let cluster = try #require(plan.changes.first { $0.type == .cluster })
        #expect(cluster.fields == [
            StackFieldChange(field: "nodeType", from: "db.t4g.small", to: "db.r7g.large"), StackFieldChange(field: "numShards", from: "2", to: "3"),
        ])
        let group = try #require(plan.changes.first { $0.type == .parameterGroup })
        // A parameter the document no longer gives goes back to its default.
        #expect(group.fields == [
            StackFieldChange(field: "parameters.maxmemory-policy", from: "allkeys-lru", to: "(default)"),
            StackFieldChange(field: "parameters.maxmemory-samples", from: "(default)", to: "7"),
        ])
        #expect(plan.changes.first { $0.type == .acl }?.fields == [StackFieldChange(field: "userNames", from: "[ci-app]", to: "[]")])
    }

    @Test func aCreateOnlyFieldForcesAReplacementAndSaysWhich() throws {
        let before = document()
        var after = before
        after.clusters[0].tlsEnabled = false
        after.clusters[0].numShards = 3
        let plan = try StackPlanner.plan(after, live: live(before), owners: owned(before))
        let cluster = try #require(plan.changes.first { $0.type == .cluster })
        #expect(cluster.action == .replace)
        #expect(cluster.reason?.hasPrefix("tlsEnabled cannot be changed in place (create-only)") == true)
        #expect(cluster.fields.first { $0.field == "tlsEnabled" }?.forcesReplacement == true)
        #expect(cluster.fields.first { $0.field == "numShards" }?.forcesReplacement == false)
        // A parameter group's family is create-only too.
        var family = before
        family.parameterGroups[0].family = "memorydb_redis6"
        #expect(try StackPlanner.plan(family, live: live(before), owners: owned(before)).changes[0].action == .replace)
    }

    @Test func fieldsLeftOutCompareWithTheirDefaultsOrAreNotManaged() throws {
        let before = document()
        var after = before
        after.clusters[0].numShards = nil  // default 1
        after.clusters[0].parameterGroupName = nil  // the engine's default group
        let plan = try StackPlanner.plan(after, live: live(before), owners: owned(before))
        let fields = try #require(plan.changes.first { $0.type == .cluster }).fields
        #expect(fields == [
            StackFieldChange(field: "numShards", from: "2", to: "1"),
            StackFieldChange(field: "parameterGroupName", from: "ci-tuned", to: "default.memorydb-redis7"),
        ])
        // `description` is not in the document: what the live cluster says is not a change.
        #expect(!fields.contains { $0.field == "description" })
    }

    /// Written another way than the API stores it is no change: an engine version by its
    /// major.minor, a node type or window in capitals.
    @Test func spellingsTheAPIAcceptsAreNoChange() throws {
        let before = document()
        var live = live(before)
        live.clusters["ci-cache"]?.maintenanceWindow = "sun:23:00-mon:01:30"
        var after = before
        after.clusters[0].engineVersion = "7"
        after.clusters[0].nodeType = "DB.T4G.SMALL"
        after.clusters[0].maintenanceWindow = "Sun:23:00-Mon:01:30"
        #expect(!(try StackPlanner.plan(after, live: live, owners: owned(before))).hasChanges)
        after.clusters[0].engineVersion = "6.2"
        #expect(try StackPlanner.plan(after, live: live, owners: owned(before)).changes[3].fields == [
            StackFieldChange(field: "engineVersion", from: "7.1", to: "6.2")
        ])
    }

    @Test func resourcesNoLongerNamedAreDeletedDependentsFirst() throws {
        let before = document()
        let plan = try StackPlanner.plan(StackDocument(stack: "ci"), live: live(before), owners: owned(before))
        #expect(plan.changes.map { "\($0.action.rawValue) \($0.resource)" } == [
            "delete cluster ci-cache", "delete acl ci-acl", "delete user ci-app", "delete parameter-group ci-tuned",
        ])
    }

    @Test func aPasswordChangeIsShownButNeverItsValue() throws {
        let before = document()
        var after = before
        after.users[0].authenticationMode.passwordHashes = [Self.hashB]
        let plan = try StackPlanner.plan(after, live: live(before), owners: owned(before))
        let user = try #require(plan.changes.first { $0.type == .user })
        #expect(user.fields == [StackFieldChange(field: "authenticationMode.passwords", from: "(sensitive)", to: "(sensitive)")])
        let text = "\(plan)"
        #expect(!text.contains(Self.hashA) && !text.contains(Self.hashB))
    }

    @Test func aResourceBelongsToOneStackOnly() {
        let document = document()
        var owners = owned(document, by: "other")
        owners[StackResourceRef(.cluster, "ci-cache")] = nil
        do {
            _ = try StackPlanner.plan(document, live: live(document), owners: owners)
            Issue.record("a plan over another stack's resources was made")
        } catch {
            #expect(error.code == .parameterGroupAlreadyExists)
            #expect(error.message.contains("parameter-group ci-tuned belongs to stack 'other'"))
            #expect(error.message.contains("cluster ci-cache already exists outside any stack"))
        }
    }

    @Test func anOwnedResourceDeletedOutsideTheStackIsCreatedAgain() throws {
        let document = document()
        var live = live(document)
        live.users["ci-app"] = nil
        let plan = try StackPlanner.plan(document, live: live, owners: owned(document))
        #expect(plan.changes.map(\.action) == [.unchanged, .create, .unchanged, .unchanged])
    }

    @Test func tagsAreComparedOnlyWhenTheDocumentGivesThem() throws {
        let before = document()
        var live = live(before)
        live.clusters["ci-cache"]?.tags = [Tag(key: "team", value: "x")]
        #expect(!(try StackPlanner.plan(before, live: live, owners: owned(before))).hasChanges)
        var after = before
        after.clusters[0].tags = []
        let fields = try StackPlanner.plan(after, live: live, owners: owned(before)).changes[3].fields
        #expect(fields == [StackFieldChange(field: "tags", from: "{team=x}", to: "{}")])
    }

    /// The defaults the plan compares a left-out member with are CreateCluster's own.
    @Test func theDefaultsThePlanComparesWithAreCreateClustersOwn() throws {
        let cluster = StackCluster(name: "c", nodeType: "db.t4g.small", aclName: "open-access")
        let spec = try ClusterSpec(validating: cluster.request)
        let live = StackCluster(name: "c", nodeType: "db.t4g.small", aclName: "open-access")
        func wanted(_ name: String) -> MemberValue? { StackPlanner.wanted(try! #require(CreateClusterRequest.member(named: name)), cluster, live) }
        #expect(wanted("numShards") == .int(spec.numShards))
        #expect(wanted("numReplicasPerShard") == .int(spec.numReplicasPerShard))
        #expect(wanted("tlsEnabled") == .bool(spec.tlsEnabled))
        #expect(wanted("snapshotRetentionLimit") == .int(spec.snapshotRetentionLimit))
        #expect(wanted("subnetGroupName") == .string(spec.subnetGroupName))
        #expect(wanted("description") == nil)
    }

    /// Every CreateCluster member that describes a cluster is a stack member, read, compared and
    /// applied through the table: one UpdateCluster does not take changes in place.
    @Test func aStackClusterIsCreateClustersInputMemberForMember() throws {
        #expect(Set(StackCluster.members.map(\.rest)) == CreateClusterRequest.restFields.subtracting(["snapshotArns", "snapshotName"]))
        let before = document()
        var after = before
        after.clusters[0].port = 7100
        after.clusters[0].dataTiering = false
        var live = live(before)
        live.clusters["ci-cache"]?.dataTiering = false
        let change = try StackPlanner.plan(after, live: live, owners: owned(before)).changes[3]
        #expect(change.fields == [StackFieldChange(field: "port", from: "7000", to: "7100", forcesReplacement: true)])
        // Leaving a member out again is not giving it.
        after.clusters[0].port = nil
        #expect(!after.clusters[0].given.contains("port"))
    }

    /// Stored documents are objects of the given members by REST name, as earlier versions wrote them.
    @Test func aStackClusterIsStoredAsTheDocumentGivesIt() throws {
        let stored = #"{"name":"a","nodeType":"db.t4g.small","aclName":"acl","numShards":2,"securityGroupIds":["sg-2"],"tags":[]}"#
        let cluster = try JSONDecoder().decode(StackCluster.self, from: Data(stored.utf8))
        #expect(cluster.given == ["name", "nodeType", "aclName", "numShards", "securityGroupIds", "tags"])
        #expect(cluster.numShards == 2 && cluster.securityGroupIds == ["sg-2"] && cluster.numReplicasPerShard == nil)
        let again = try JSONDecoder().decode(StackCluster.self, from: try JSONEncoder().encode(cluster))
        #expect(again == cluster)
    }
}
