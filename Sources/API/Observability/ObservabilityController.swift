import Control
import Ports
import Foundation
import Hummingbird
import Model
import NIOCore
import Prometheus
import Store

/// `/metrics` (Prometheus), and a cluster's metrics and slow log as JSON.
struct ObservabilityController {
    let metrics: ControlMetrics
    let collector: MetricsCollector?
    let observability: ObservabilityService?
    let clusters: ClusterService
    let alarms: AlarmService?
    let advisor: AdvisorService?

    /// `/metrics`: node families, the collector's own cost, then the control plane's metrics.
    @Sendable func scrape(_ request: Request, context: APIRequestContext) async throws -> Response {
        var text = MetricsExposition.render(collector?.readings ?? [])
        if let collector {
            let statistics = collector.passStatistics
            text += "# HELP memoryplane_metrics_collection_seconds Time the last collection of every node's metrics took\n"
            text += "# TYPE memoryplane_metrics_collection_seconds gauge\n"
            text += "memoryplane_metrics_collection_seconds \(MetricsExposition.number(statistics.seconds))\n"
            text += "# HELP memoryplane_metrics_collections_total Collections of every node's metrics since the server started\n"
            text += "# TYPE memoryplane_metrics_collections_total counter\n"
            text += "memoryplane_metrics_collections_total \(statistics.passes)\n"
        }
        text += metrics.registry.emitToString()
        var buffer = ByteBuffer()
        buffer.writeString(text)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: buffer))
    }

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("clusters/:name/metrics", use: clusterMetrics)
        group.get("clusters/:name/slowlog", use: slowlog)
        group.get("clusters/:name/alarms", use: listAlarms)
        group.patch("clusters/:name/alarms", use: setThresholds)
        group.get("clusters/:name/advisor", use: clusterAdvice)
        group.get("advisor", use: allAdvice)
    }

    struct Advice: Encodable {
        var findings: [Finding]
    }

    @Sendable func clusterAdvice(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard let advisor else { throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.") }
        return try JSONBody.response(Advice(findings: try await advisor.findings(cluster: name)))
    }

    @Sendable func allAdvice(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let advisor else { return try JSONBody.response(Advice(findings: [])) }
        return try JSONBody.response(Advice(findings: try await advisor.findings(cluster: nil)))
    }

    struct AlarmsBody: Encodable {
        struct Threshold: Encodable {
            var metric, comparison, unit: String
            var threshold: Double
            var isDefault: Bool
        }
        struct Alarm: Encodable {
            var node, metric, state, since: String
            var value, threshold: Double
        }
        var cluster: String
        var thresholds: [Threshold]
        /// Alarms in ALARM now; every other node and metric is OK.
        var alarms: [Alarm]
    }

    @Sendable func listAlarms(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name").lowercased()
        guard let alarms else { throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.") }
        let state = try alarms.alarms(cluster: name)
        return try JSONBody.response(
            AlarmsBody(
                cluster: name,
                thresholds: state.thresholds.map {
                    AlarmsBody.Threshold(metric: $0.metric, comparison: $0.comparison, unit: $0.unit, threshold: $0.threshold, isDefault: $0.isDefault)
                },
                alarms: state.alarms.map {
                    AlarmsBody.Alarm(
                        node: $0.nodeName, metric: $0.metric, state: "ALARM", since: RESTTime.iso8601($0.raisedAt), value: $0.value, threshold: $0.threshold)
                }))
    }

    struct ThresholdsBody: Decodable {
        var thresholds: [String: Double?]
    }

    /// `{"thresholds": {"DatabaseMemoryUsagePercentage": 70, "ReplicationLag": null}}`: null
    /// returns a metric to its default.
    @Sendable func setThresholds(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name").lowercased()
        guard let alarms else { throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.") }
        let body = try await JSONBody.decode(ThresholdsBody.self, from: request, context: context, allowedFields: ["thresholds"])
        try alarms.setThresholds(cluster: name, body.thresholds)
        return try await listAlarms(request, context: context)
    }

    struct NodeValues: Encodable {
        var node, shard, role, availabilityZone, collectedAt: String
        var values: [String: Double]
    }
    struct Point: Encodable {
        var time: String
        var nodes: [String: [String: Double]]
    }
    struct ClusterMetrics: Encodable {
        var cluster: String
        var intervalSeconds: Double
        var nodes: [NodeValues]
        var history: [Point]
    }

    /// The same figures as `/metrics` for one cluster (CloudWatch names), and the last points.
    @Sendable func clusterMetrics(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name").lowercased()
        _ = try clusters.describeCluster(name)
        let readings = (collector?.readings ?? []).filter { $0.labels.cluster == name }
        let body = ClusterMetrics(
            cluster: name, intervalSeconds: collector.map { Double($0.interval.components.seconds) } ?? 0,
            nodes: readings.map { reading in
                NodeValues(
                    node: reading.labels.node, shard: reading.labels.shard, role: reading.labels.role, availabilityZone: reading.labels.availabilityZone,
                    collectedAt: RESTTime.iso8601(Int64(reading.takenAt * 1000)), values: reading.values)
            },
            history: (collector?.history(ofCluster: name) ?? []).map { Point(time: RESTTime.iso8601(Int64($0.takenAt * 1000)), nodes: $0.nodes) })
        return try JSONBody.response(body)
    }

    struct SlowlogBody: Encodable {
        struct Entry: Encodable {
            var node, shard, role, time: String
            var id: Int64
            var durationMicroseconds: Int64
            var command: [String]
            var client, clientName: String
        }
        var cluster: String
        var entries: [Entry]
        /// Nodes that did not answer, by name.
        var unreachable: [String]
    }

    /// Every node's SLOWLOG GET, merged newest first.
    @Sendable func slowlog(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = try context.parameters.require("name").lowercased()
        let count = try RESTQuery.maxResults(request) ?? 128
        guard let observability else { throw MemoryDBError(.invalidClusterState, "This server has no data plane to read slow logs from.") }
        let log = try await observability.slowlog(cluster: name, count: count)
        let body = SlowlogBody(
            cluster: name,
            entries: log.entries.map { item in
                SlowlogBody.Entry(
                    node: item.node, shard: item.shard, role: item.role, time: RESTTime.iso8601(item.entry.timestamp * 1000), id: item.entry.id,
                    durationMicroseconds: item.entry.durationMicroseconds, command: item.entry.arguments, client: item.entry.client,
                    clientName: item.entry.clientName)
            }, unreachable: log.unreachable)
        return try JSONBody.response(body)
    }
}
