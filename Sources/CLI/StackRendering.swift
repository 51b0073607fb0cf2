import API
import Control
import Foundation
import Model

/// Plans and progress as people read them, Terraform-style.
enum StackRendering {
    static func symbol(_ action: StackAction) -> String {
        switch action {
        case .create: "+"
        case .update: "~"
        case .replace: "-/+"
        case .delete: "-"
        case .unchanged: " "
        }
    }

    static func plan(_ plan: RESTPlan) -> String {
        var lines: [String] = []
        let changes = plan.changes.filter { $0.action != .unchanged }
        guard !changes.isEmpty else {
            return "No changes. Stack \(plan.stack) matches the document (\(plan.summary.unchanged) resource\(plan.summary.unchanged == 1 ? "" : "s"))."
        }
        lines.append("Stack \(plan.stack) — changes:")
        for change in changes {
            let verb: String
            switch change.action {
            case .create: verb = "will be created"
            case .update: verb = "will be updated in place"
            case .replace: verb = "must be replaced"
            case .delete: verb = "will be deleted"
            case .unchanged: verb = ""
            }
            lines.append("  \(symbol(change.action)) \(change.type.rawValue) \(change.name) \(verb)")
            if let reason = change.reason { lines.append("      # \(reason)") }
            for field in change.fields {
                let from = field.from ?? "(unset)", to = field.to ?? "(unset)"
                lines.append("      \(field.field): \(from) -> \(to)\(field.forcesReplacement ? "   # forces replacement" : "")")
            }
        }
        let s = plan.summary
        lines.append("")
        lines.append("Plan: \(s.create) to create, \(s.update) to update, \(s.replace) to replace, \(s.delete) to delete, \(s.unchanged) unchanged.")
        if let cost = plan.cost { lines += Self.cost(cost) }
        return lines.joined(separator: "\n")
    }

    /// The plan's on-demand cost: per cluster, and the stack's month before and after.
    static func cost(_ cost: StackCost) -> [String] {
        func money(_ value: Double) -> String { String(format: "$%.2f", value) }
        var lines = ["", "Cost (on demand, USD a month at 730 hours):"]
        for cluster in cost.clusters {
            let price = cluster.monthly.map { "\(money($0)) (\(cluster.nodes) × \(cluster.nodeType) at \(String(format: "$%.4f", cluster.hourly ?? 0))/h)" }
                ?? "unknown (no price for \(cluster.nodeType) in the price list)"
            lines.append("  cluster \(cluster.name): \(price)")
        }
        let sign = cost.monthlyChange >= 0 ? "+" : "-"
        lines.append("  stack: \(money(cost.monthlyNow)) now -> \(money(cost.monthlyAfter)) after (\(sign)\(money(abs(cost.monthlyChange))))")
        lines.append("  prices: \(cost.priceList.prefix(120))\(cost.priceList.count > 120 ? "…" : "")")
        return lines
    }

    static func drift(_ changes: [StackChange]) -> String {
        guard !changes.isEmpty else { return "No drift." }
        var lines = ["Drift (changed outside the stack; the next apply changes it back):"]
        for change in changes {
            lines.append("  \(symbol(change.action)) \(change.type.rawValue) \(change.name)")
            for field in change.fields { lines.append("      \(field.field): \(field.from ?? "(unset)") (live) -> \(field.to ?? "(unset)") (document)") }
        }
        return lines.joined(separator: "\n")
    }

    static func outputs(_ outputs: [String: String]) -> String {
        outputs.keys.sorted().map { "\($0) = \(outputs[$0] ?? "")" }.joined(separator: "\n")
    }
}

/// Shows a run's steps as they advance: redrawn in place on a terminal, otherwise one
/// timestamped line per change of state (for CI logs).
final class ProgressDisplay {
    let terminal: Bool
    let started = Date()
    var drawnLines = 0
    var lastStates: [String: String] = [:]

    init(terminal: Bool) { self.terminal = terminal }

    func show(_ stack: RESTStack) {
        guard let run = stack.lastRun else { return }
        let statuses = Dictionary(stack.resources.map { ("\($0.type) \($0.name)", $0.status ?? "-") }, uniquingKeysWith: { a, _ in a })
        if terminal {
            var lines: [String] = []
            for step in run.steps {
                let key = "\(step.type) \(step.name)"
                let elapsed = Self.elapsed(step)
                let live = statuses[key].map { " [\($0)]" } ?? ""
                let mark = step.state == "done" ? "✓" : step.state == "failed" ? "✗" : step.state == "in-progress" ? "…" : " "
                let detail = step.message.map { "  \($0)" } ?? ""
                lines.append("\(mark) \(StackRendering.symbol(StackAction(rawValue: step.action) ?? .unchanged)) \(key)  \(step.state)\(elapsed)\(live)\(detail)")
            }
            lines.append(String(format: "%@ %.1fs", stack.status, Date().timeIntervalSince(started)))
            var output = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
            for line in lines { output += "\u{1B}[2K" + line + "\n" }
            FileHandle.standardOutput.write(Data(output.utf8))
            drawnLines = lines.count
        } else {
            for step in run.steps {
                let key = "\(step.type) \(step.name)"
                let state = step.state + (step.message ?? "")
                guard lastStates[key] != state, step.state != "pending" else { continue }
                lastStates[key] = state
                let detail = step.message.map { ": \($0)" } ?? ""
                print("\(Self.timestamp()) \(step.action) \(key) \(step.state)\(Self.elapsed(step))\(detail)")
            }
            fflush(nil)
        }
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date())
    }

    static func elapsed(_ step: RESTStack.Step) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let start = step.startedAt.flatMap(formatter.date(from:)) else { return "" }
        let end = step.finishedAt.flatMap(formatter.date(from:)) ?? Date()
        return String(format: " (%.1fs)", end.timeIntervalSince(start))
    }
}
