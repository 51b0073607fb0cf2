import Control
import Foundation
import Model

/// `PUT /v1/stacks/{name}?dryRun=true` as the CLI reads it.
struct PlanReply: Decodable {
    var stack: String
    var hasChanges: Bool
    var summary: StackPlan.Summary
    var changes: [StackChange]
}

/// `GET /v1/stacks/{name}` as the CLI reads it.
struct StackReply: Decodable {
    struct Resource: Decodable {
        var type: String
        var name: String
        var status: String?
    }
    struct Step: Decodable {
        var type, name, action, state: String
        var message, startedAt, finishedAt: String?
    }
    struct Run: Decodable {
        var kind, outcome, startedAt: String
        var finishedAt, error: String?
        var steps: [Step]
    }

    var name: String
    var status: String
    var resources: [Resource]
    var lastRun: Run?
    var drift: [StackChange]
    var outputs: [String: String]
}

struct ApplyReply: Decodable {
    var plan: PlanReply
    var stack: StackReply
}
