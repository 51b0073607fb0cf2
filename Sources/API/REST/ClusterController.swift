import Control
import Foundation
import NIOCore
import Hummingbird
import Model

/// REST `/v1/clusters`: translates JSON to service calls and views back to JSON.
struct ClusterController {
    let service: ClusterService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("clusters", use: create)
        group.get("clusters", use: list)
        group.get("clusters/:name", use: get)
        group.patch("clusters/:name", use: update)
        group.delete("clusters/:name", use: delete)
        group.post("clusters/:name/shards/:shard/failover", use: failover)
        group.get("clusters/:name/allowed-node-type-updates", use: allowedNodeTypes)
        group.post("clusters/:name/stop", use: stop)
        group.post("clusters/:name/start", use: start)
    }

    struct AllowedNodeTypes: Encodable {
        var scaleUpNodeTypes: [String]
        var scaleDownNodeTypes: [String]
    }

    /// ListAllowedNodeTypeUpdates.
    /// Stops every node with its data (MemoryPlane's own): 202, `stopping` then `stopped`.
    @Sendable func stop(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await JSONBody.requireEmpty(request, context: context)
        return try JSONBody.response(RESTCluster(try service.stopCluster(context.parameters.require("name"))), status: .accepted)
    }

    /// Starts a stopped cluster: 202, `starting` then `available`.
    @Sendable func start(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await JSONBody.requireEmpty(request, context: context)
        return try JSONBody.response(RESTCluster(try service.startCluster(context.parameters.require("name"))), status: .accepted)
    }

    @Sendable func allowedNodeTypes(_ request: Request, context: APIRequestContext) async throws -> Response {
        let allowed = try service.allowedNodeTypeUpdates(context.parameters.require("name"))
        return try JSONBody.response(AllowedNodeTypes(scaleUpNodeTypes: allowed.scaleUp, scaleDownNodeTypes: allowed.scaleDown))
    }

    /// FailoverShard: answers at once with the cluster; the swap follows within moments (see
    /// the cluster's `operations` and its events).
    @Sendable func failover(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await JSONBody.requireEmpty(request, context: context)
        let view = try service.failoverShard(cluster: context.parameters.require("name"), shard: context.parameters.require("shard"))
        return try JSONBody.response(RESTCluster(view), status: .accepted)
    }

    /// Every member of AWS's UpdateCluster; the service decides which may change.
    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(
            TabledBody<UpdateClusterRequest>.self, from: request, context: context, allowedFields: UpdateClusterRequest.restFields)
        let view = try service.updateCluster(context.parameters.require("name"), body.request)
        return try JSONBody.response(RESTCluster(view))
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let wait = try RESTQuery.wait(request)
        let body = try await JSONBody.decode(
            TabledBody<CreateClusterRequest>.self, from: request, context: context, allowedFields: CreateClusterRequest.restFields)
        let created = try service.createCluster(body.request)
        if wait {
            let settled = try await service.waitUntilSettled(created.name) ?? created
            return try JSONBody.response(RESTCluster(settled), status: settled.status == .available ? .created : .accepted)
        }
        return try JSONBody.response(RESTCluster(created), status: .accepted)
    }

    /// Each cluster's JSON is rendered once per change and kept (`RepresentationCache`); a list
    /// joins the kept bytes.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let page = try service.listClusterRepresentations(
            maxResults: try RESTQuery.maxResults(request), nextToken: request.uri.queryParameters.get("nextToken"),
            format: RESTCluster.format, render: RESTCluster.render)
        var body: [UInt8] = []
        body.reserveCapacity(page.clusters.reduce(32) { $0 + $1.count + 1 })
        body.append(contentsOf: #"{"clusters":["#.utf8)
        for (index, cluster) in page.clusters.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: cluster)
        }
        body.append(UInt8(ascii: "]"))
        if let token = page.nextToken {
            body.append(contentsOf: #","nextToken":"#.utf8)
            body.append(contentsOf: AWSJSON.string(token).serialized())
        }
        body.append(UInt8(ascii: "}"))
        return JSONBody.response(bytes: body)
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> Response {
        JSONBody.response(bytes: try service.clusterRepresentation(context.parameters.require("name"), format: RESTCluster.format, render: RESTCluster.render))
    }

    /// `?finalSnapshotName=` takes a snapshot before anything is stopped.
    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let wait = try RESTQuery.wait(request)
        let deleting = try service.deleteCluster(
            context.parameters.require("name"), finalSnapshotName: request.uri.queryParameters.get("finalSnapshotName"))
        if wait {
            guard let remaining = try await service.waitUntilSettled(deleting.name) else {
                return Response(status: .noContent)
            }
            return try JSONBody.response(RESTCluster(remaining), status: .accepted)
        }
        return try JSONBody.response(RESTCluster(deleting), status: .accepted)
    }


}

/// The REST shape of a cluster: AWS member names in lowerCamelCase, the resource's own name as `name`.
struct RESTCluster: Encodable {
    struct Endpoint: Encodable {
        var address: String?
        var port: Int
    }
    struct Node: Encodable {
        var name: String
        var role: String
        var status: String
        var availabilityZone: String
        var createTime: String
        var endpoint: Endpoint
    }
    struct Shard: Encodable {
        var name: String
        var status: String
        var slots: String
        var numberOfNodes: Int
        var nodes: [Node]
    }

    var name: String
    var description: String?
    var status: String
    var numberOfShards: Int
    var shards: [Shard]
    var availabilityMode: String
    var clusterEndpoint: Endpoint
    var nodeType: String
    var engine: String
    var engineVersion: String
    var enginePatchVersion: String
    var parameterGroupName: String
    var parameterGroupStatus: String
    var subnetGroupName: String
    var tlsEnabled: Bool
    var arn: String
    var aclName: String
    var snapshotRetentionLimit: Int
    var autoMinorVersionUpgrade: Bool
    var deletionProtection: Bool
    var snapshotBeforeUpdate: Bool
    var dataTiering: String
    var maintenanceWindow: String
    var snapshotWindow: String
    var securityGroups: [SecurityGroup]
    var networkType: String
    var ipDiscovery: String
    var tags: [TagBody]
    /// Operations in progress (failovers), MemoryPlane's own: AWS shows none.
    var operations: [Operation]
    /// Why the last reconcile step kept failing, until the cluster settles again.
    var lastError: String?

    struct Operation: Encodable {
        var shard, kind, phase, reason, fromNode, toNode, startedAt: String
        var lastError: String?
    }

    struct SecurityGroup: Encodable {
        var securityGroupId: String
        var status: String
    }

    init(_ view: ClusterView) {
        name = view.name
        description = view.description
        status = view.status.rawValue
        numberOfShards = view.numberOfShards
        shards = view.shards.map { shard in
            Shard(
                name: shard.name, status: shard.status, slots: shard.slots, numberOfNodes: shard.nodes.count,
                nodes: shard.nodes.map { node in
                    Node(
                        name: node.name, role: node.role.rawValue, status: node.status.rawValue,
                        availabilityZone: node.availabilityZone, createTime: RESTTime.iso8601(node.createTime),
                        endpoint: Endpoint(address: node.endpoint.address, port: node.endpoint.port))
                })
        }
        availabilityMode = view.availabilityMode
        clusterEndpoint = Endpoint(address: view.clusterEndpoint.address, port: view.clusterEndpoint.port)
        nodeType = view.nodeType
        engine = view.engine
        engineVersion = view.engineVersion
        enginePatchVersion = view.enginePatchVersion
        parameterGroupName = view.parameterGroupName
        parameterGroupStatus = view.parameterGroupStatus
        subnetGroupName = view.subnetGroupName
        tlsEnabled = view.tlsEnabled
        arn = view.arn
        aclName = view.aclName
        snapshotRetentionLimit = view.snapshotRetentionLimit
        autoMinorVersionUpgrade = view.autoMinorVersionUpgrade
        deletionProtection = view.deletionProtection
        snapshotBeforeUpdate = view.snapshotBeforeUpdate
        dataTiering = view.dataTiering
        maintenanceWindow = view.maintenanceWindow
        snapshotWindow = view.snapshotWindow
        securityGroups = view.securityGroupIds.map { SecurityGroup(securityGroupId: $0, status: "active") }
        networkType = "ipv4"
        ipDiscovery = "ipv4"
        tags = view.tags.map(TagBody.init)
        operations = view.operations.map { operation in
            Operation(
                shard: operation.shard, kind: operation.kind, phase: operation.phase, reason: operation.reason, fromNode: operation.fromNode,
                toNode: operation.toNode, startedAt: RESTTime.iso8601(operation.startedAt), lastError: operation.lastError)
        }
        lastError = view.lastError
    }
}

extension RESTCluster {
    static let format = "rest"

    /// The cluster's REST JSON, with sorted keys as every REST body.
    static func render(_ view: ClusterView) throws -> [UInt8] {
        try JSONBody.encode(RESTCluster(view))
    }
}

/// REST timestamps: ISO-8601 with milliseconds, UTC (`2026-11-27T13:32:12.345Z`).
enum RESTTime {
    /// Written digit by digit from the epoch milliseconds (Howard Hinnant's days-to-civil): a
    /// Foundation formatter per timestamp cost more than the rest of a cluster's JSON together.
    static func iso8601(_ milliseconds: Int64) -> String {
        let millisecond = Int(((milliseconds % 1000) + 1000) % 1000)
        let seconds = (milliseconds - Int64(millisecond)) / 1000
        var days = seconds / 86_400
        var secondOfDay = Int(seconds % 86_400)
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        bytes.append(UInt8(ascii: "."))
        digits(millisecond, 3)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
