import Foundation
import Prometheus
import Ports

/// The control plane's own metrics (swift-prometheus): requests by door and operation, reconcile
/// passes, failovers and node restarts.
public final class ControlMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    static let latencyBuckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10)]

    public init() {}

    // Immutable descriptors (swift-prometheus does not mark the type Sendable).

    nonisolated(unsafe) static let requests = MetricNameDescriptor(
        namespace: "memoryplane", metricName: "http_requests", unitName: "total",
        helpText: "API requests answered, by door (aws, rest), operation and HTTP status")
    nonisolated(unsafe) static let requestDuration = MetricNameDescriptor(
        namespace: "memoryplane", metricName: "http_request_duration", unitName: "seconds", helpText: "Time to answer an API request, by door and operation")
    nonisolated(unsafe) static let reconcileDuration = MetricNameDescriptor(
        namespace: "memoryplane", metricName: "reconcile_pass_duration", unitName: "seconds",
        helpText: "Time of one reconcile pass (observe, plan, act) of one cluster")
    nonisolated(unsafe) static let failovers = MetricNameDescriptor(namespace: "memoryplane", metricName: "failovers", unitName: "total", helpText: "Failovers begun, by kind")
    nonisolated(unsafe) static let restarts = MetricNameDescriptor(
        namespace: "memoryplane", metricName: "node_restarts", unitName: "total", helpText: "Node processes started again after they ended")

    nonisolated(unsafe) static let authFailures = MetricNameDescriptor(
        namespace: "memoryplane", metricName: "auth_failures", unitName: "total",
        helpText: "Requests refused for their credentials (missing, wrong, forged, expired session), by door")
    nonisolated(unsafe) static let authDelays = MetricNameDescriptor(
        namespace: "memoryplane", metricName: "auth_failures_delayed", unitName: "total",
        helpText: "Refusals answered late because their source kept failing (more than 10 a minute)")

    nonisolated(unsafe) static let accessDenied = MetricNameDescriptor(
        namespace: "memoryplane", metricName: "access_denied", unitName: "total",
        helpText: "Requests an access key's policy did not allow (AccessDeniedException), by door")

    /// A request its key's policy refused.
    public func accessDenied(door: String) {
        registry.makeCounter(descriptor: Self.accessDenied, labels: [("door", door)]).increment()
    }

    /// A request refused for its credentials; `delayed` when its answer was held back.
    public func authFailure(door: String, delayed: Bool) {
        registry.makeCounter(descriptor: Self.authFailures, labels: [("door", door)]).increment()
        if delayed { registry.makeCounter(descriptor: Self.authDelays, labels: []).increment() }
    }

    /// One answered API request. `operation` is the AWS operation or the REST route.
    public func request(door: String, operation: String, status: Int, duration: Duration) {
        registry.makeCounter(descriptor: Self.requests, labels: [("door", door), ("operation", operation), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: Self.requestDuration, labels: [("door", door), ("operation", operation)], buckets: Self.latencyBuckets)
            .recordNanoseconds(duration.nanoseconds)
    }

    public func reconcilePass(duration: Duration) {
        registry.makeDurationHistogram(descriptor: Self.reconcileDuration, labels: [], buckets: Self.latencyBuckets)
            .recordNanoseconds(duration.nanoseconds)
    }

    public func failover(kind: String) {
        registry.makeCounter(descriptor: Self.failovers, labels: [("kind", kind)]).increment()
    }

    public func nodeRestart() {
        registry.makeCounter(descriptor: Self.restarts, labels: []).increment()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
