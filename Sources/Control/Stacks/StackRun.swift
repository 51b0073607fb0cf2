import Foundation
import Model
import Store
import Synchronization
import Ports

/// One step of an apply or destroy, as `GET /v1/stacks/{name}` shows it while it runs.
public struct StackStep: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        case pending
        case inProgress = "in-progress"
        case done, failed
    }

    public var type: StackResourceType
    public var name: String
    public var action: StackAction
    public var state: State
    /// What the step waits for, or why it failed.
    public var message: String?
    public var startedAt: Int64?
    public var finishedAt: Int64?

    public var resource: StackResourceRef { StackResourceRef(type, name) }
}

/// The last apply or destroy of a stack.
public struct StackRun: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case apply, destroy }
    public enum Outcome: String, Sendable, Codable {
        case running, succeeded, failed
        /// The control plane stopped while it ran; the next apply picks up from what exists.
        case interrupted
    }

    public var kind: Kind
    public var startedAt: Int64
    public var finishedAt: Int64?
    public var outcome: Outcome
    /// Which resource failed and why.
    public var error: String?
    public var steps: [StackStep]

    static func decode(_ text: String?) -> StackRun? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(StackRun.self, from: Data(text.utf8))
    }

    func encoded() -> String {
        (try? String(decoding: JSONEncoder().encode(self), as: UTF8.self)) ?? "{}"
    }
}

/// A stack's status.

/// A stack as `GET /v1/stacks/{name}` shows it.
public struct StackView: Sendable, Equatable {
    public struct Resource: Sendable, Equatable {
        public var type: StackResourceType
        public var name: String
        /// The live resource's status; nil when it does not exist (any more).
        public var status: String?
    }

    public var name: String
    public var status: StackStatus
    public var createdAt: Int64
    public var updatedAt: Int64
    public var resources: [Resource]
    public var lastRun: StackRun?
    /// Changes made outside the stack: what the next apply would change back.
    public var drift: [StackChange]
    /// Values for scripts: `<cluster>.endpoint` (`host:port`), `<cluster>.address`, `.port`, `.arn`.
    public var outputs: [String: String]
    /// Keys the last run created, with their secrets: in the first view after the run, only.
    public var newAccessKeys: [NewAccessKeys.Key] = []
    /// What the stack's clusters cost a month on demand now, and as its document wants them.
    public var cost: StackCost?
}

/// One apply or destroy per stack at a time.
final class StackLocks: Sendable {
    private let held = Mutex<Set<String>>([])

    func acquire(_ name: String) -> Bool { held.withLock { $0.insert(name).inserted } }
    func release(_ name: String) { _ = held.withLock { $0.remove(name) } }
}
