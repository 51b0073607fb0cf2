import Model
import Ports
import Store

/// Users in a stack: the document carries passwords, the live side only their hashes, so an
/// update sends the authentication mode only when the plan says it changed.
struct UserKind: StackResourceKind {
    let service: AccessControlService
    let effects: StackEffects
    var type: StackResourceType { .user }
    var noun: String { "User" }
    var notFound: MemoryDBError.Code { .userNotFound }
    var arnType: ResourceARN.ResourceType? { .user }

    func namedMembers(_ name: String, in document: StackDocument) -> OperationCall {
        OperationCall("", tags: document.users.first(where: { $0.name == name })?.tags ?? [])
    }

    func describe(_ name: String, into live: inout LiveResources) throws {
        guard let user = try effects.store.user(named: name) else { return }
        live.users[name] = StackUser(
            name: name, accessString: user.accessString,
            authenticationMode: StackUser.AuthenticationMode(type: user.authenticationType, passwordHashes: user.hashes),
            tags: try effects.tags(of: .user, name))
    }

    func create(_ name: String, from document: StackDocument) async throws {
        guard let user = document.users.first(where: { $0.name == name }) else { return }
        let mode = user.authenticationMode
        _ = try await service.createUser(
            CreateUserRequest(
                name: name, accessString: user.accessString,
                authenticationMode: AuthenticationModeInput(type: mode.type, passwords: mode.passwords ?? []), tags: user.tags ?? []))
    }

    func update(_ name: String, from document: StackDocument, _ change: StackChange) async throws {
        guard let user = document.users.first(where: { $0.name == name }) else { return }
        let fields = Set(change.fields.map(\.field))
        var request = UpdateUserRequest()
        if fields.contains("accessString") { request.accessString = user.accessString }
        if fields.contains("authenticationMode.type") || fields.contains("authenticationMode.passwords") {
            request.authenticationMode = AuthenticationModeInput(type: user.authenticationMode.type, passwords: user.authenticationMode.passwords ?? [])
        }
        if request.accessString != nil || request.authenticationMode != nil { _ = try await service.updateUser(name: name, request) }
        try effects.syncTags(.user, name, user.tags)
    }

    func delete(_ name: String) async throws { _ = try service.deleteUser(name) }
}

/// ACLs in a stack: an update adds and removes members to make them the document's.
struct ACLKind: StackResourceKind {
    let service: AccessControlService
    let effects: StackEffects
    var type: StackResourceType { .acl }
    var noun: String { "ACL" }
    var notFound: MemoryDBError.Code { .aclNotFound }
    var arnType: ResourceARN.ResourceType? { .acl }

    func namedMembers(_ name: String, in document: StackDocument) -> OperationCall {
        guard let acl = document.acls.first(where: { $0.name == name }) else { return OperationCall("") }
        return OperationCall("", lists: ["UserNames": acl.userNames], tags: acl.tags ?? [])
    }

    func describe(_ name: String, into live: inout LiveResources) throws {
        guard let acl = try effects.store.acl(named: name) else { return }
        live.acls[name] = StackACL(name: name, userNames: acl.users, tags: try effects.tags(of: .acl, name))
    }

    func create(_ name: String, from document: StackDocument) async throws {
        guard let acl = document.acls.first(where: { $0.name == name }) else { return }
        _ = try service.createACL(CreateACLRequest(name: name, userNames: acl.userNames, tags: acl.tags ?? []))
    }

    func update(_ name: String, from document: StackDocument, _ change: StackChange) async throws {
        guard let acl = document.acls.first(where: { $0.name == name }) else { return }
        let current = Set(try effects.store.acl(named: name)?.users ?? [])
        let wanted = Set(acl.userNames)
        let add = wanted.subtracting(current).sorted(), remove = current.subtracting(wanted).sorted()
        if !add.isEmpty || !remove.isEmpty {
            _ = try service.updateACL(name: name, UpdateACLRequest(userNamesToAdd: add, userNamesToRemove: remove))
        }
        try effects.syncTags(.acl, name, acl.tags)
    }

    func delete(_ name: String) async throws { _ = try service.deleteACL(name) }
}
