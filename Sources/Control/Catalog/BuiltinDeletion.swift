import Model

/// Deleting users and ACLs: so far only the built-in ones
/// exist, and they cannot be deleted, with the faults AWS gives.
extension CatalogService {
    public func deleteUser(_ name: String) throws -> Never {
        let name = name.lowercased()
        guard name == BuiltinResources.defaultUserName else { throw MemoryDBError(.userNotFound, "User '\(name)' not found.") }
        throw MemoryDBError.invalid("The default user can't be deleted.")
    }

    public func deleteACL(_ name: String) throws -> Never {
        let name = name.lowercased()
        guard name == BuiltinResources.openAccessACLName else { throw MemoryDBError(.aclNotFound, "ACL '\(name)' not found.") }
        throw MemoryDBError.invalid("open-access ACL can't be deleted.")
    }
}
