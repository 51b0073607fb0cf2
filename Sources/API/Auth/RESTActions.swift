import Control
import Foundation
import Hummingbird
import Model

/// The action every authenticated REST route performs, named as the AWS operation it matches
/// (`POST /v1/clusters` is `memorydb:CreateCluster`) or, for MemoryPlane's own, in the same
/// form (`memorydb:StartDrill`), with the members that name its resources read from the path,
/// the query or the body: one policy speaks for both doors, the console, the CLI and `/metrics`.
/// `docs/access-keys.md` lists this table; a test holds it to the router's routes.
enum RESTActions {
    enum Source: Sendable {
        case path(String)
        case query(String)
        case body(String)
        /// The name of the access key whose id is this path parameter.
        case accessKeyName(String)
    }

    struct Route: Sendable {
        var operation: String
        var members: [String: Source] = [:]
        /// List members (AWS name) read from the body (REST key).
        var lists: [String: String] = [:]
        /// The body key of the tags the request sets.
        var tags: String?

        var readsBody: Bool {
            tags != nil || !lists.isEmpty || members.values.contains { if case .body = $0 { true } else { false } }
        }
    }

    static func route(_ operation: String, _ members: [String: Source] = [:], lists: [String: String] = [:], tags: String? = nil) -> Route {
        Route(operation: operation, members: members, lists: lists, tags: tags)
    }

    /// Keyed by `METHOD path`, the path as the router spells it.
    static let table: [String: Route] = {
        let cluster: [String: Source] = ["ClusterName": .path("name")]
        var routes: [String: Route] = [
            "POST /v1/clusters": route(
                "CreateCluster",
                [
                    "ClusterName": .body("name"), "ACLName": .body("aclName"), "ParameterGroupName": .body("parameterGroupName"),
                    "SubnetGroupName": .body("subnetGroupName"), "SnapshotName": .body("snapshotName"),
                ], tags: "tags"),
            "GET /v1/clusters": route("DescribeClusters", ["ClusterName": .query("name")]),
            "GET /v1/clusters/{name}": route("DescribeClusters", cluster),
            "PATCH /v1/clusters/{name}": route(
                "UpdateCluster", ["ClusterName": .path("name"), "ACLName": .body("aclName"), "ParameterGroupName": .body("parameterGroupName")]),
            "DELETE /v1/clusters/{name}": route("DeleteCluster", ["ClusterName": .path("name"), "FinalSnapshotName": .query("finalSnapshotName")]),
            "POST /v1/clusters/{name}/shards/{shard}/failover": route("FailoverShard", cluster),
            "GET /v1/clusters/{name}/allowed-node-type-updates": route("ListAllowedNodeTypeUpdates", cluster),
            "POST /v1/clusters/{name}/stop": route("StopCluster", cluster),
            "POST /v1/clusters/{name}/start": route("StartCluster", cluster),
            "GET /v1/clusters/{name}/metrics": route("DescribeMetrics", cluster),
            "GET /v1/clusters/{name}/slowlog": route("DescribeSlowLog", cluster),
            "GET /v1/clusters/{name}/alarms": route("DescribeAlarms", cluster),
            "PATCH /v1/clusters/{name}/alarms": route("UpdateAlarms", cluster),
            "GET /v1/clusters/{name}/advisor": route("DescribeAdvice", cluster),
            "GET /v1/advisor": route("DescribeAdvice"),
            "GET /metrics": route("DescribeMetrics"),
            "GET /v1/reserved-node-offerings": route("DescribeReservedNodesOfferings"),
            "GET /v1/reserved-nodes": route("DescribeReservedNodes"),
            "GET /v1/reserved-nodes/{id}": route("DescribeReservedNodes"),
            "POST /v1/reserved-nodes": route("PurchaseReservedNodesOffering", ["ReservationId": .body("reservationId")], tags: "tags"),
            "GET /v1/events": route("DescribeEvents"),
            "GET /v1/audit": route("DescribeAuditEvents"),
            "GET /v1/engine-versions": route("DescribeEngineVersions"),
            "GET /v1/tags": route("ListTags", ["ResourceArn": .query("resourceArn")]),
            "POST /v1/tags": route("TagResource", ["ResourceArn": .body("resourceArn")], tags: "tags"),
            "DELETE /v1/tags": route("UntagResource", ["ResourceArn": .body("resourceArn")]),
            "POST /v1/drills": route("StartDrill", ["ClusterName": .body("cluster")]),
            "GET /v1/drills": route("DescribeDrills"),
            "GET /v1/drills/{id}": route("DescribeDrills"),
            "GET /v1/service-updates": route("DescribeServiceUpdates"),
            "POST /v1/service-updates/apply": route("BatchUpdateCluster", lists: ["ClusterNames": "clusterNames"]),
            "POST /v1/snapshots": route("CreateSnapshot", ["ClusterName": .body("clusterName"), "SnapshotName": .body("snapshotName")], tags: "tags"),
            "GET /v1/snapshots": route("DescribeSnapshots"),
            "GET /v1/snapshots/{name}": route("DescribeSnapshots", ["SnapshotName": .path("name")]),
            "DELETE /v1/snapshots/{name}": route("DeleteSnapshot", ["SnapshotName": .path("name")]),
            "POST /v1/snapshots/{name}/copy": route(
                "CopySnapshot", ["SourceSnapshotName": .path("name"), "TargetSnapshotName": .body("targetSnapshotName")], tags: "tags"),
            "POST /v1/snapshots/{name}/verify": route("VerifySnapshot", ["SnapshotName": .path("name")]),
            "GET /v1/stacks": route("DescribeStacks"),
            "GET /v1/stacks/{name}": route("DescribeStacks", ["StackName": .path("name")]),
            "PUT /v1/stacks/{name}": route("ApplyStack", ["StackName": .path("name")]),
            "DELETE /v1/stacks/{name}": route("DeleteStack", ["StackName": .path("name")]),
            "POST /v1/access-keys": route("CreateAccessKey", ["AccessKeyName": .body("name")]),
            "GET /v1/access-keys": route("DescribeAccessKeys"),
            "GET /v1/access-keys/{accessKeyId}": route("DescribeAccessKeys", ["AccessKeyName": .accessKeyName("accessKeyId")]),
            "PATCH /v1/access-keys/{accessKeyId}": route("UpdateAccessKey", ["AccessKeyName": .accessKeyName("accessKeyId")]),
            "DELETE /v1/access-keys/{accessKeyId}": route("DeleteAccessKey", ["AccessKeyName": .accessKeyName("accessKeyId")]),
            "POST /v1/access-keys/{accessKeyId}/rotate": route("CreateAccessKey", ["AccessKeyName": .accessKeyName("accessKeyId")]),
        ]
        // Users, ACLs, parameter groups and subnet groups share one shape.
        for (collection, noun, member) in [
            ("users", "User", "UserName"), ("acls", "ACL", "ACLName"), ("parameter-groups", "ParameterGroup", "ParameterGroupName"),
            ("subnet-groups", "SubnetGroup", "SubnetGroupName"),
        ] {
            let named: [String: Source] = [member: .path("name")]
            routes["GET /v1/\(collection)"] = route("Describe\(noun)s", [member: .query("name")])
            routes["POST /v1/\(collection)"] = route("Create\(noun)", [member: .body("name")], tags: "tags")
            routes["PATCH /v1/\(collection)/{name}"] = route("Update\(noun)", named)
            routes["DELETE /v1/\(collection)/{name}"] = route("Delete\(noun)", named)
        }
        routes["POST /v1/acls"]?.lists = ["UserNames": "userNames"]
        routes["PATCH /v1/acls/{name}"]?.lists = ["UserNamesToAdd": "userNamesToAdd", "UserNamesToRemove": "userNamesToRemove"]
        routes["GET /v1/parameter-groups/{name}/parameters"] = route("DescribeParameters", ["ParameterGroupName": .path("name")])
        routes["POST /v1/parameter-groups/{name}/reset"] = route("ResetParameterGroup", ["ParameterGroupName": .path("name")])
        return routes
    }()

    /// The route's action and resources for this request; `body` is its JSON object when the
    /// route names resources there (a body that is not one names none: the handler refuses it).
    static func target(
        of route: Route, request: Request, parameters: Parameters, body: [String: Any]?, keys: AccessKeyService?, authorizer: Authorizer
    ) -> AuthorizationTarget {
        func value(_ source: Source) -> String? {
            switch source {
            case .path(let name): return parameters.get(name)
            case .query(let name): return request.uri.queryParameters.get(name).map { String($0) }
            case .body(let name): return body?[name] as? String
            case .accessKeyName(let name): return parameters.get(name).flatMap { keys?.name(of: $0) }
            }
        }
        let tags = (route.tags.flatMap { body?[$0] as? [[String: Any]] } ?? []).compactMap { item -> Tag? in
            guard let key = item["key"] as? String, let value = item["value"] as? String else { return nil }
            return Tag(key: key, value: value)
        }
        return authorizer.target(
            route.operation, string: { route.members[$0].flatMap(value) },
            strings: { member in route.lists[member].flatMap { body?[$0] as? [String] } ?? [] }, tags: tags)
    }
}
