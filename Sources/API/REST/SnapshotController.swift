import Control
import Hummingbird
import Model
import Store

/// REST `/v1/snapshots`: CreateSnapshot, DescribeSnapshots, DeleteSnapshot, CopySnapshot (and
/// exports), and restore verification.
struct SnapshotController {
    let service: SnapshotService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("snapshots", use: create)
        group.get("snapshots", use: list)
        group.get("snapshots/:name", use: get)
        group.delete("snapshots/:name", use: delete)
        group.post("snapshots/:name/copy", use: copy)
        group.post("snapshots/:name/verify", use: verify)
    }

    struct CreateBody: Decodable {
        var clusterName: String
        var snapshotName: String
        var kmsKeyId: String?
        var tags: [TagBody]?
        static let fields: Set<String> = ["clusterName", "snapshotName", "kmsKeyId", "tags"]
    }

    struct CopyBody: Decodable {
        var targetSnapshotName: String
        var targetBucket: String?
        var kmsKeyId: String?
        var tags: [TagBody]?
        static let fields: Set<String> = ["targetSnapshotName", "targetBucket", "kmsKeyId", "tags"]
    }

    /// `?wait=true` answers once the snapshot is available (201) or failed.
    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let wait = try RESTQuery.wait(request)
        let body = try await JSONBody.decode(CreateBody.self, from: request, context: context, allowedFields: CreateBody.fields)
        var view = try service.createSnapshot(
            cluster: body.clusterName, name: body.snapshotName, kmsKeyId: body.kmsKeyId, tags: (body.tags ?? []).map(\.tag))
        if wait { view = try await service.waitUntilTaken(view.name) }
        return try JSONBody.response(RESTSnapshot(view), status: view.status == "available" ? .created : .accepted)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let page = try service.list(
            cluster: query.get("clusterName"), source: query.get("source"), maxResults: try RESTQuery.maxResults(request), nextToken: query.get("nextToken"))
        return try JSONBody.response(RESTSnapshotList(snapshots: page.snapshots.map(RESTSnapshot.init), nextToken: page.nextToken))
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONBody.response(RESTSnapshot(service.describe(context.parameters.require("name"))))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONBody.response(RESTSnapshot(service.delete(context.parameters.require("name"))))
    }

    @Sendable func copy(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(CopyBody.self, from: request, context: context, allowedFields: CopyBody.fields)
        let view = try service.copy(
            context.parameters.require("name"), to: body.targetSnapshotName, bucket: body.targetBucket, kmsKeyId: body.kmsKeyId,
            tags: (body.tags ?? []).map(\.tag))
        return try JSONBody.response(RESTSnapshot(view), status: body.targetBucket == nil ? .created : .ok)
    }

    /// Restores into a scratch cluster and compares; answers when done, verified or not.
    @Sendable func verify(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await JSONBody.requireEmpty(request, context: context)
        return try JSONBody.response(RESTVerification(try await service.verify(context.parameters.require("name"))))
    }
}

struct RESTVerification: Encodable {
    var status: String
    var keysExpected, keysFound: Int
    var digestExpected, digestFound: String
    var seconds: Double
    var verifiedAt: String
    var differences: String?

    init(_ result: SnapshotVerification) {
        status = result.status
        keysExpected = result.keysExpected
        keysFound = result.keysFound
        digestExpected = result.digestExpected
        digestFound = result.digestFound
        seconds = result.seconds
        verifiedAt = RESTTime.iso8601(result.verifiedAt)
        differences = result.differences
    }
}

/// The REST shape of a snapshot: botocore's members in lowerCamelCase, sizes in bytes, plus
/// the source cluster's name, key counts, the last error and the last verification.
struct RESTSnapshot: Encodable {
    struct Shard: Encodable {
        struct Configuration: Encodable {
            var slots: String
            var replicaCount: Int
        }
        var name: String
        var configuration: Configuration
        var size: Int64?
        var snapshotCreationTime: String?
        var keyCount: Int?
    }

    struct ClusterConfiguration: Encodable {
        var name, nodeType, engine, engineVersion, maintenanceWindow, parameterGroupName, subnetGroupName, snapshotWindow: String
        var description: String?
        var port, snapshotRetentionLimit, numShards: Int
        var shards: [Shard]
    }

    var name, clusterName, status, source, arn, createTime, dataTiering: String
    var kmsKeyId: String?
    var clusterConfiguration: ClusterConfiguration
    var lastError: String?
    var lastVerification: RESTVerification?

    init(_ view: SnapshotView) {
        name = view.name
        clusterName = view.clusterName
        status = view.status
        source = view.source
        arn = view.arn
        createTime = RESTTime.iso8601(view.createdAt)
        dataTiering = "false"
        kmsKeyId = view.kmsKeyId
        let configuration = view.configuration
        clusterConfiguration = ClusterConfiguration(
            name: configuration.name, nodeType: configuration.nodeType, engine: "redis", engineVersion: configuration.engineVersion,
            maintenanceWindow: configuration.maintenanceWindow, parameterGroupName: configuration.parameterGroupName,
            subnetGroupName: configuration.subnetGroupName, snapshotWindow: configuration.snapshotWindow, description: configuration.description,
            port: configuration.port, snapshotRetentionLimit: configuration.snapshotRetentionLimit, numShards: configuration.numShards,
            shards: view.shards.map { shard in
                Shard(
                    name: shard.name, configuration: .init(slots: shard.slots, replicaCount: shard.replicaCount), size: shard.size,
                    snapshotCreationTime: shard.creationTime.map(RESTTime.iso8601), keyCount: shard.keyCount)
            })
        lastError = view.lastError
        lastVerification = view.verification.map(RESTVerification.init)
    }
}

struct RESTSnapshotList: Encodable {
    var snapshots: [RESTSnapshot]
    var nextToken: String?
}
