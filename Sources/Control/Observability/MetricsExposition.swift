import Foundation
import Ports

/// The Prometheus text format (0.0.4) of node readings: one family per metric, HELP naming the
/// CloudWatch metric it stands for, one line per node with its labels. Pure.
public enum MetricsExposition {
    public static func render(_ readings: [NodeReading]) -> String {
        var out = ""
        for definition in NodeMetrics.definitions {
            let lines = readings.compactMap { reading -> String? in
                guard let value = reading.values[definition.cloudWatchName] else { return nil }
                return "\(definition.prometheusName)\(labels(reading.labels)) \(number(value))\n"
            }
            guard !lines.isEmpty else { continue }
            out += "# HELP \(definition.prometheusName) CloudWatch \(definition.cloudWatchName): \(escapeHelp(definition.help))\n"
            out += "# TYPE \(definition.prometheusName) \(definition.kind.rawValue)\n"
            out += lines.joined()
        }
        return out
    }

    static func labels(_ labels: NodeLabels) -> String {
        let pairs = [
            ("cluster", labels.cluster), ("shard", labels.shard), ("node", labels.node), ("role", labels.role),
            ("availability_zone", labels.availabilityZone),
        ]
        return "{" + pairs.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
    }

    static func escapeLabel(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Whole numbers without a fraction; others with up to 6 decimals.
    public static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.6f", value)
    }
}
