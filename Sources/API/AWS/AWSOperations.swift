import Control
import Model

/// The AWS MemoryDB operations MemoryPlane serves: each reads its input, calls the service
/// layer and renders the output shape. No business logic lives here.
struct AWSOperations: Sendable {
    let services: APIServices

    typealias Handler = @Sendable (AWSInput) async throws -> AWSJSON

    /// Operation name → (members botocore may send, handler).
    var table: [String: (members: Set<String>, handler: Handler)] {
        [
            "CreateCluster": (Self.createClusterMembers, createCluster),
            "DescribeClusters": (["ClusterName", "MaxResults", "NextToken", "ShowShardDetails"], describeClusters),
            "UpdateCluster": (Self.updateClusterMembers, updateCluster),
            "DeleteCluster": (["ClusterName", "MultiRegionClusterName", "FinalSnapshotName"], deleteCluster),
            "FailoverShard": (["ClusterName", "ShardName"], failoverShard),
            "ListAllowedNodeTypeUpdates": (["ClusterName"], listAllowedNodeTypeUpdates),
            "CreateSnapshot": (["ClusterName", "SnapshotName", "KmsKeyId", "Tags"], createSnapshot),
            "DescribeSnapshots": (["ClusterName", "SnapshotName", "Source", "NextToken", "MaxResults", "ShowDetail"], describeSnapshots),
            "DeleteSnapshot": (["SnapshotName"], deleteSnapshot),
            "CopySnapshot": (["SourceSnapshotName", "TargetSnapshotName", "TargetBucket", "KmsKeyId", "Tags"], copySnapshot),
            "TagResource": (["ResourceArn", "Tags"], tagResource),
            "UntagResource": (["ResourceArn", "TagKeys"], untagResource),
            "ListTags": (["ResourceArn"], listTags),
            "DescribeReservedNodesOfferings": (
                ["ReservedNodesOfferingId", "NodeType", "Duration", "OfferingType", "MaxResults", "NextToken"], describeReservedNodesOfferings
            ),
            "PurchaseReservedNodesOffering": (["ReservedNodesOfferingId", "ReservationId", "NodeCount", "Tags"], purchaseReservedNodesOffering),
            "DescribeReservedNodes": (
                ["ReservationId", "ReservedNodesOfferingId", "NodeType", "Duration", "OfferingType", "MaxResults", "NextToken"], describeReservedNodes
            ),
            "DescribeUsers": (["UserName", "Filters", "MaxResults", "NextToken"], describeUsers),
            "DescribeACLs": (["ACLName", "MaxResults", "NextToken"], describeACLs),
            "DescribeSubnetGroups": (["SubnetGroupName", "MaxResults", "NextToken"], describeSubnetGroups),
            "DescribeParameterGroups": (["ParameterGroupName", "MaxResults", "NextToken"], describeParameterGroups),
            "DescribeParameters": (["ParameterGroupName", "MaxResults", "NextToken"], describeParameters),
            "DescribeEngineVersions": (
                ["Engine", "EngineVersion", "ParameterGroupFamily", "MaxResults", "NextToken", "DefaultOnly"], describeEngineVersions
            ),
            "DescribeEvents": (["SourceName", "SourceType", "StartTime", "EndTime", "Duration", "MaxResults", "NextToken"], describeEvents),
            "DescribeServiceUpdates": (["ServiceUpdateName", "ClusterNames", "Status", "MaxResults", "NextToken"], describeServiceUpdates),
            "BatchUpdateCluster": (["ClusterNames", "ServiceUpdate"], batchUpdateCluster),
            "CreateUser": (CreateUserRequest.awsMembers, createUser),
            "UpdateUser": (UpdateUserRequest.awsMembers.union(["UserName"]), updateUser),
            "DeleteUser": (["UserName"], deleteUser),
            "CreateACL": (CreateACLRequest.awsMembers, createACL),
            "UpdateACL": (UpdateACLRequest.awsMembers.union(["ACLName"]), updateACL),
            "DeleteACL": (["ACLName"], deleteACL),
            "CreateParameterGroup": (CreateParameterGroupRequest.awsMembers, createParameterGroup),
            "UpdateParameterGroup": (["ParameterGroupName", "ParameterNameValues"], updateParameterGroup),
            "ResetParameterGroup": (["ParameterGroupName", "AllParameters", "ParameterNames"], resetParameterGroup),
            "DeleteParameterGroup": (["ParameterGroupName"], deleteParameterGroup),
            "CreateSubnetGroup": (CreateSubnetGroupRequest.awsMembers, createSubnetGroup),
            "UpdateSubnetGroup": (UpdateSubnetGroupRequest.awsMembers.union(["SubnetGroupName"]), updateSubnetGroup),
            "DeleteSubnetGroup": (["SubnetGroupName"], deleteSubnetGroup),
        ]
    }

    /// The rest of the 45 operations of API version 2021-01-01: answered with a clear refusal.
    static let notYetSupported: Set<String> = [
        "CreateMultiRegionCluster", "DeleteMultiRegionCluster", "DescribeMultiRegionClusters", "DescribeMultiRegionParameterGroups",
        "DescribeMultiRegionParameters", "ListAllowedMultiRegionClusterUpdates", "UpdateMultiRegionCluster",
    ]

    static let createClusterMembers = CreateClusterRequest.awsMembers

    static let updateClusterMembers = UpdateClusterRequest.awsMembers.union(["ClusterName"])

    // MARK: Clusters

    func createCluster(_ input: AWSInput) async throws -> AWSJSON {
        let cluster = try services.clusters.createCluster(try input.read(CreateClusterRequest.self))
        return .object(["Cluster": AWSShapes.cluster(cluster, showShardDetails: false)])
    }

    /// Each cluster's shape is serialized once per change and kept (`RepresentationCache`).
    func describeClusters(_ input: AWSInput) async throws -> AWSJSON {
        let showShards = try input.bool("ShowShardDetails") ?? false
        let format = showShards ? "aws+shards" : "aws"
        let render = { (view: ClusterView) in AWSShapes.cluster(view, showShardDetails: showShards).serialized() }
        if let name = try input.string("ClusterName") {
            _ = try input.int("MaxResults")
            let cluster = try services.clusters.clusterRepresentation(name, format: format, render: render)
            return AWSShapes.page("Clusters", [.serialized(cluster)], nextToken: nil)
        }
        let page = try services.clusters.listClusterRepresentations(
            maxResults: try input.int("MaxResults"), nextToken: try input.string("NextToken"), format: format, render: render)
        return AWSShapes.page("Clusters", page.clusters.map(AWSJSON.serialized), nextToken: page.nextToken)
    }

    func updateCluster(_ input: AWSInput) async throws -> AWSJSON {
        let request = try input.read(UpdateClusterRequest.self)
        let cluster = try services.clusters.updateCluster(try input.requiredString("ClusterName"), request)
        return .object(["Cluster": AWSShapes.cluster(cluster, showShardDetails: false)])
    }

    func deleteCluster(_ input: AWSInput) async throws -> AWSJSON {
        if input.has("MultiRegionClusterName") {
            throw MemoryDBError(.invalidParameterCombination, "MultiRegionClusterName: multi-Region clusters are not supported by MemoryPlane.")
        }
        let cluster = try services.clusters.deleteCluster(try input.requiredString("ClusterName"), finalSnapshotName: try input.string("FinalSnapshotName"))
        return .object(["Cluster": AWSShapes.cluster(cluster, showShardDetails: false)])
    }

    /// Answers at once, as AWS does; the role swap follows within moments.
    func failoverShard(_ input: AWSInput) async throws -> AWSJSON {
        let cluster = try services.clusters.failoverShard(cluster: try input.requiredString("ClusterName"), shard: try input.requiredString("ShardName"))
        return .object(["Cluster": AWSShapes.cluster(cluster, showShardDetails: false)])
    }

    func listAllowedNodeTypeUpdates(_ input: AWSInput) async throws -> AWSJSON {
        let allowed = try services.clusters.allowedNodeTypeUpdates(try input.requiredString("ClusterName"))
        return .object(["ScaleUpNodeTypes": AWSJSON.strings(allowed.scaleUp), "ScaleDownNodeTypes": AWSJSON.strings(allowed.scaleDown)])
    }

    // MARK: Snapshots

    func createSnapshot(_ input: AWSInput) async throws -> AWSJSON {
        let snapshot = try services.snapshots.createSnapshot(
            cluster: try input.requiredString("ClusterName"), name: try input.requiredString("SnapshotName"), kmsKeyId: try input.string("KmsKeyId"),
            tags: try input.tags("Tags") ?? [])
        return .object(["Snapshot": AWSShapes.snapshot(snapshot, showDetail: true)])
    }

    func describeSnapshots(_ input: AWSInput) async throws -> AWSJSON {
        let detail = try input.bool("ShowDetail") ?? false
        if let name = try input.string("SnapshotName") {
            _ = try input.int("MaxResults")
            let found = try services.snapshots.describe(name, ofCluster: try input.string("ClusterName"))
            return AWSShapes.page("Snapshots", found.map { AWSShapes.snapshot($0, showDetail: detail) }, nextToken: nil)
        }
        let page = try services.snapshots.list(
            cluster: try input.string("ClusterName"), source: try input.string("Source"), maxResults: try input.int("MaxResults"),
            nextToken: try input.string("NextToken"))
        return AWSShapes.page("Snapshots", page.snapshots.map { AWSShapes.snapshot($0, showDetail: detail) }, nextToken: page.nextToken)
    }

    func deleteSnapshot(_ input: AWSInput) async throws -> AWSJSON {
        .object(["Snapshot": AWSShapes.snapshot(try services.snapshots.delete(try input.requiredString("SnapshotName")), showDetail: false)])
    }

    func copySnapshot(_ input: AWSInput) async throws -> AWSJSON {
        let snapshot = try services.snapshots.copy(
            try input.requiredString("SourceSnapshotName"), to: try input.requiredString("TargetSnapshotName"), bucket: try input.string("TargetBucket"),
            kmsKeyId: try input.string("KmsKeyId"), tags: try input.tags("Tags") ?? [])
        return .object(["Snapshot": AWSShapes.snapshot(snapshot, showDetail: true)])
    }

    // MARK: Tags

    func tagResource(_ input: AWSInput) async throws -> AWSJSON {
        let tags = try services.tags.tagResource(try input.requiredString("ResourceArn"), tags: try input.tags("Tags") ?? [])
        return .object(["TagList": AWSShapes.tagList(tags)])
    }

    func untagResource(_ input: AWSInput) async throws -> AWSJSON {
        let tags = try services.tags.untagResource(try input.requiredString("ResourceArn"), keys: try input.strings("TagKeys") ?? [])
        return .object(["TagList": AWSShapes.tagList(tags)])
    }

    func listTags(_ input: AWSInput) async throws -> AWSJSON {
        .object(["TagList": AWSShapes.tagList(try services.tags.listTags(try input.requiredString("ResourceArn")))])
    }

    // MARK: Built-in objects

    func describeUsers(_ input: AWSInput) async throws -> AWSJSON {
        let page = try services.accessControl.describeUsers(
            name: try input.string("UserName"), filters: try input.filters("Filters"),
            maxResults: try input.int("MaxResults"), nextToken: try input.string("NextToken"))
        return AWSShapes.page("Users", page.items.map(AWSShapes.user), nextToken: page.nextToken)
    }

    func createUser(_ input: AWSInput) async throws -> AWSJSON {
        let user = try await services.accessControl.createUser(try input.read(CreateUserRequest.self))
        return .object(["User": AWSShapes.user(user)])
    }

    func updateUser(_ input: AWSInput) async throws -> AWSJSON {
        let name = try input.requiredString("UserName")
        let user = try await services.accessControl.updateUser(name: name, try input.read(UpdateUserRequest.self))
        return .object(["User": AWSShapes.user(user)])
    }

    func deleteUser(_ input: AWSInput) async throws -> AWSJSON {
        .object(["User": AWSShapes.user(try services.accessControl.deleteUser(try input.requiredString("UserName")))])
    }

    func createACL(_ input: AWSInput) async throws -> AWSJSON {
        let acl = try services.accessControl.createACL(try input.read(CreateACLRequest.self))
        return .object(["ACL": AWSShapes.acl(acl)])
    }

    func updateACL(_ input: AWSInput) async throws -> AWSJSON {
        let name = try input.requiredString("ACLName")
        let acl = try services.accessControl.updateACL(name: name, try input.read(UpdateACLRequest.self))
        return .object(["ACL": AWSShapes.acl(acl)])
    }

    func deleteACL(_ input: AWSInput) async throws -> AWSJSON {
        .object(["ACL": AWSShapes.acl(try services.accessControl.deleteACL(try input.requiredString("ACLName")))])
    }

    func describeACLs(_ input: AWSInput) async throws -> AWSJSON {
        let page = try services.accessControl.describeACLs(
            name: try input.string("ACLName"), maxResults: try input.int("MaxResults"), nextToken: try input.string("NextToken"))
        return AWSShapes.page("ACLs", page.items.map(AWSShapes.acl), nextToken: page.nextToken)
    }

    func describeSubnetGroups(_ input: AWSInput) async throws -> AWSJSON {
        let page = try services.subnetGroups.describe(
            name: try input.string("SubnetGroupName"), maxResults: try input.int("MaxResults"), nextToken: try input.string("NextToken"))
        return AWSShapes.page("SubnetGroups", page.items.map(AWSShapes.subnetGroup), nextToken: page.nextToken)
    }

    func createSubnetGroup(_ input: AWSInput) async throws -> AWSJSON {
        let group = try services.subnetGroups.create(try input.read(CreateSubnetGroupRequest.self))
        return .object(["SubnetGroup": AWSShapes.subnetGroup(group)])
    }

    func updateSubnetGroup(_ input: AWSInput) async throws -> AWSJSON {
        let name = try input.requiredString("SubnetGroupName")
        let group = try services.subnetGroups.update(name: name, try input.read(UpdateSubnetGroupRequest.self))
        return .object(["SubnetGroup": AWSShapes.subnetGroup(group)])
    }

    func deleteSubnetGroup(_ input: AWSInput) async throws -> AWSJSON {
        .object(["SubnetGroup": AWSShapes.subnetGroup(try services.subnetGroups.delete(try input.requiredString("SubnetGroupName")))])
    }

    func describeParameterGroups(_ input: AWSInput) async throws -> AWSJSON {
        let page = try services.parameterGroups.describeGroups(
            name: try input.string("ParameterGroupName"), maxResults: try input.int("MaxResults"), nextToken: try input.string("NextToken"))
        return AWSShapes.page("ParameterGroups", page.items.map(AWSShapes.parameterGroup), nextToken: page.nextToken)
    }

    func describeParameters(_ input: AWSInput) async throws -> AWSJSON {
        let page = try services.parameterGroups.describeParameters(
            group: try input.requiredString("ParameterGroupName"), maxResults: try input.int("MaxResults"),
            nextToken: try input.string("NextToken"))
        return AWSShapes.page("Parameters", page.items.map(AWSShapes.parameter), nextToken: page.nextToken)
    }

    func createParameterGroup(_ input: AWSInput) async throws -> AWSJSON {
        let group = try services.parameterGroups.createGroup(try input.read(CreateParameterGroupRequest.self))
        return .object(["ParameterGroup": AWSShapes.parameterGroup(group)])
    }

    func updateParameterGroup(_ input: AWSInput) async throws -> AWSJSON {
        let values = try input.nameValues("ParameterNameValues")
        let group = try services.parameterGroups.updateParameters(group: try input.requiredString("ParameterGroupName"), values: values)
        return .object(["ParameterGroup": AWSShapes.parameterGroup(group)])
    }

    func resetParameterGroup(_ input: AWSInput) async throws -> AWSJSON {
        let group = try services.parameterGroups.resetParameters(
            group: try input.requiredString("ParameterGroupName"), all: try input.bool("AllParameters") ?? false,
            names: try input.strings("ParameterNames") ?? [])
        return .object(["ParameterGroup": AWSShapes.parameterGroup(group)])
    }

    func deleteParameterGroup(_ input: AWSInput) async throws -> AWSJSON {
        let group = try services.parameterGroups.deleteGroup(try input.requiredString("ParameterGroupName"))
        return .object(["ParameterGroup": AWSShapes.parameterGroup(group)])
    }

    func describeEngineVersions(_ input: AWSInput) async throws -> AWSJSON {
        // Only one version is installed, so it is also the default: DefaultOnly changes nothing.
        _ = try input.bool("DefaultOnly")
        let page = try services.catalog.describeEngineVersions(
            engine: try input.string("Engine"), engineVersion: try input.string("EngineVersion"),
            family: try input.string("ParameterGroupFamily"), maxResults: try input.int("MaxResults"),
            nextToken: try input.string("NextToken"))
        return AWSShapes.page("EngineVersions", page.items.map(AWSShapes.engineVersion), nextToken: page.nextToken)
    }

    func describeReservedNodesOfferings(_ input: AWSInput) async throws -> AWSJSON {
        let page = try services.reservedNodes.offerings(
            id: try input.string("ReservedNodesOfferingId"), nodeType: try input.string("NodeType"), duration: try input.string("Duration"),
            offeringType: try input.string("OfferingType"), maxResults: try input.int("MaxResults"), nextToken: try input.string("NextToken"))
        return AWSShapes.page("ReservedNodesOfferings", page.items.map(AWSShapes.offering), nextToken: page.nextToken)
    }

    func purchaseReservedNodesOffering(_ input: AWSInput) async throws -> AWSJSON {
        let node = try services.reservedNodes.purchase(
            offeringID: try input.requiredString("ReservedNodesOfferingId"), reservationID: try input.string("ReservationId"),
            nodeCount: try input.int("NodeCount"), tags: try input.tags("Tags") ?? [])
        return .object(["ReservedNode": AWSShapes.reservedNode(node)])
    }

    func describeReservedNodes(_ input: AWSInput) async throws -> AWSJSON {
        let page = try services.reservedNodes.reservedNodes(
            reservationID: try input.string("ReservationId"), offeringID: try input.string("ReservedNodesOfferingId"),
            nodeType: try input.string("NodeType"), duration: try input.string("Duration"), offeringType: try input.string("OfferingType"),
            maxResults: try input.int("MaxResults"), nextToken: try input.string("NextToken"))
        return AWSShapes.page("ReservedNodes", page.items.map(AWSShapes.reservedNode), nextToken: page.nextToken)
    }

    func describeEvents(_ input: AWSInput) async throws -> AWSJSON {
        let page = try services.events.describeEvents(
            sourceName: try input.string("SourceName"), sourceType: try input.string("SourceType"),
            startTime: try input.double("StartTime"), endTime: try input.double("EndTime"), duration: try input.int("Duration"),
            maxResults: try input.int("MaxResults"), nextToken: try input.string("NextToken"))
        return AWSShapes.page("Events", page.items.map(AWSShapes.event), nextToken: page.nextToken)
    }

    func describeServiceUpdates(_ input: AWSInput) async throws -> AWSJSON {
        let page = try services.serviceUpdates.describe(
            name: try input.string("ServiceUpdateName"), clusterNames: try input.strings("ClusterNames"), statuses: try input.strings("Status"),
            maxResults: try input.int("MaxResults"), nextToken: try input.string("NextToken"))
        return AWSShapes.page("ServiceUpdates", page.updates.map(AWSShapes.serviceUpdate), nextToken: page.nextToken)
    }

    func batchUpdateCluster(_ input: AWSInput) async throws -> AWSJSON {
        guard let names = try input.strings("ClusterNames") else { throw MemoryDBError.invalid("ClusterNames is required.") }
        let updateName = try input.serviceUpdateName("ServiceUpdate")
        let result = try services.serviceUpdates.apply(clusterNames: names, updateName: updateName)
        return .object([
            "ProcessedClusters": .array(result.processed.map { AWSShapes.cluster($0, showShardDetails: false) }),
            "UnprocessedClusters": .array(result.unprocessed.map { .object(["ClusterName": .string($0.clusterName), "ErrorType": .string($0.errorType), "ErrorMessage": .string($0.errorMessage)]) }),
        ])
    }
}
