import Foundation
import Model
import Store
import Synchronization

/// Access keys in a stack, by name: a created key's secret is kept in memory until the stack is
/// next read after its run (`NewAccessKeys`), never in the document or the database in clear.
struct AccessKeyKind: StackResourceKind {
    let service: AccessKeyService?
    let effects: StackEffects
    let newKeys: NewAccessKeys
    var type: StackResourceType { .accessKey }
    var noun: String { "AccessKey" }
    var notFound: MemoryDBError.Code { .accessKeyNotFound }
    /// Keys carry no tags.
    var arnType: ResourceARN.ResourceType? { nil }

    func namedMembers(_ name: String, in document: StackDocument) -> OperationCall { OperationCall("") }

    var keys: AccessKeyService {
        get throws {
            guard let service else {
                throw MemoryDBError(.invalidParameterCombination, "This server runs with --auth none: a stack cannot keep access keys nothing checks.")
            }
            return service
        }
    }

    func describe(_ name: String, into live: inout LiveResources) throws {
        guard let service, let key = service.list().first(where: { $0.name == name }) else { return }
        live.accessKeys[name] = StackAccessKey(name: name, policy: key.policy)
    }

    func create(_ name: String, from document: StackDocument) async throws {
        guard let key = document.accessKeys.first(where: { $0.name == name }) else { return }
        let (view, secret) = try keys.create(name: name, policy: try AccessKeyKind.policy(of: key))
        newKeys.add(stack: document.stack, NewAccessKeys.Key(name: name, accessKeyId: view.id, secretAccessKey: secret))
    }

    func update(_ name: String, from document: StackDocument, _ change: StackChange) async throws {
        guard let key = document.accessKeys.first(where: { $0.name == name }) else { return }
        let policy = try AccessKeyKind.policy(of: key)
        for existing in try keys.list() where existing.name == name { _ = try keys.update(existing.id, status: nil, policy: policy) }
    }

    func delete(_ name: String) async throws {
        for existing in try keys.list() where existing.name == name { try keys.delete(existing.id) }
    }

    static func policy(of key: StackAccessKey) throws(MemoryDBError) -> AccessKeyPolicy {
        try AccessKeyPolicy.parse(key.policy, prefix: key.prefix, tag: key.tag)
    }
}

/// The secrets of keys a stack run created, answered once: by the first read of the stack
/// after its run has ended (what `memoryplane apply` and `?wait=true` show), then forgotten.
public final class NewAccessKeys: Sendable {
    public struct Key: Sendable, Equatable, Codable {
        public var name: String
        public var accessKeyId: String
        public var secretAccessKey: String
    }

    private let pending = Mutex<[String: [Key]]>([:])

    public init() {}

    func add(stack: String, _ key: Key) {
        pending.withLock { $0[stack, default: []].append(key) }
    }

    /// The stack's new keys, removed as they are handed out.
    func take(stack: String) -> [Key] {
        pending.withLock { $0.removeValue(forKey: stack) ?? [] }
    }
}
