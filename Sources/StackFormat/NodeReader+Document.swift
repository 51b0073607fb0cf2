import Model
import Yams

/// The stack document's schema: which fields each section takes, which it needs.
extension NodeReader {
    static let topFields = ["stack", "parameterGroups", "subnetGroups", "users", "acls", "clusters", "accessKeys"]
    static let accessKeyFields = ["name", "policy", "prefix", "tag"]
    static let parameterGroupFields = ["name", "family", "description", "parameters", "tags"]
    static let subnetGroupFields = ["name", "description", "subnetIds", "tags"]
    static let userFields = ["name", "accessString", "authenticationMode", "tags"]
    static let aclFields = ["name", "userNames", "tags"]
    /// A cluster's fields are CreateCluster's members (`StackCluster.members`); those naming
    /// another resource of the document are references, checked against the document.
    static let clusterReferences: Set<String> = ["aclName", "parameterGroupName", "subnetGroupName"]

    mutating func document(_ root: Node) -> StackDocument? {
        guard let top = mapping(root, "", allowed: Self.topFields, required: ["stack"]) else { return nil }
        let stack = name(top["stack"], "stack")
        var document = StackDocument(stack: stack ?? "")
        document.parameterGroups = section(top["parameterGroups"], "parameterGroups") { reader, node, path in reader.parameterGroup(node, path) }
        document.subnetGroups = section(top["subnetGroups"], "subnetGroups") { reader, node, path in reader.subnetGroup(node, path) }
        document.users = section(top["users"], "users") { reader, node, path in reader.user(node, path) }
        document.acls = section(top["acls"], "acls") { reader, node, path in reader.acl(node, path) }
        document.clusters = section(top["clusters"], "clusters") { reader, node, path in reader.cluster(node, path) }
        document.accessKeys = section(top["accessKeys"], "accessKeys") { reader, node, path in reader.accessKey(node, path) }
        return stack == nil ? nil : document
    }

    /// A list of resources; a name given twice is a problem at its second place.
    mutating func section<Resource>(
        _ node: Node?, _ path: String, read: (inout NodeReader, Node, String) -> (name: String, resource: Resource)?
    ) -> [Resource] {
        guard let node, let items = list(node, path) else { return [] }
        var resources: [Resource] = []
        var seen: Set<String> = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard let (name, resource) = read(&self, item, itemPath) else { continue }
            guard seen.insert(name).inserted else {
                fail(item, "\(itemPath).name", "'\(name)' is named twice in \(path)")
                continue
            }
            resources.append(resource)
        }
        return resources
    }

    mutating func parameterGroup(_ node: Node, _ path: String) -> (name: String, resource: StackParameterGroup)? {
        guard let fields = mapping(node, path, allowed: Self.parameterGroupFields, required: ["name", "family"]) else { return nil }
        let name = self.name(fields["name"], "\(path).name", maxLength: 255)
        let family = fields["family"].flatMap { string($0, "\(path).family") }
        let description = fields["description"].flatMap { string($0, "\(path).description") }
        let parameters = fields["parameters"].flatMap { stringMap($0, "\(path).parameters") } ?? [:]
        let tags = fields["tags"].flatMap { self.tags($0, "\(path).tags") }
        guard let name, let family else { return nil }
        return (name, StackParameterGroup(name: name, family: family, description: description, parameters: parameters, tags: tags))
    }

    mutating func subnetGroup(_ node: Node, _ path: String) -> (name: String, resource: StackSubnetGroup)? {
        guard let fields = mapping(node, path, allowed: Self.subnetGroupFields, required: ["name", "subnetIds"]) else { return nil }
        let name = self.name(fields["name"], "\(path).name", maxLength: 255)
        let description = fields["description"].flatMap { string($0, "\(path).description") }
        let subnets = fields["subnetIds"].flatMap { strings($0, "\(path).subnetIds") }
        let tags = fields["tags"].flatMap { self.tags($0, "\(path).tags") }
        guard let name, let subnets else { return nil }
        return (name, StackSubnetGroup(name: name, description: description, subnetIds: subnets, tags: tags))
    }

    mutating func user(_ node: Node, _ path: String) -> (name: String, resource: StackUser)? {
        guard let fields = mapping(node, path, allowed: Self.userFields, required: ["name", "accessString", "authenticationMode"]) else { return nil }
        let name = self.name(fields["name"], "\(path).name")
        let access = fields["accessString"].flatMap { string($0, "\(path).accessString") }
        var mode: StackUser.AuthenticationMode?
        if let modeNode = fields["authenticationMode"],
            let modeFields = mapping(modeNode, "\(path).authenticationMode", allowed: ["type", "passwords"], required: ["type"])
        {
            let type = modeFields["type"].flatMap { string($0, "\(path).authenticationMode.type") }
            let passwords = modeFields["passwords"].flatMap { strings($0, "\(path).authenticationMode.passwords") }
            if let type {
                if !["password", "no-password"].contains(type) {
                    fail(modeFields["type"], "\(path).authenticationMode.type", "must be password or no-password; got '\(type)'")
                } else if type == "password" && (passwords ?? []).isEmpty {
                    fail(modeNode, "\(path).authenticationMode.passwords", "a password user needs 1 or 2 passwords")
                } else if type == "no-password" && !(passwords ?? []).isEmpty {
                    fail(modeFields["passwords"], "\(path).authenticationMode.passwords", "a no-password user takes no passwords")
                }
                mode = StackUser.AuthenticationMode(type: type, passwords: type == "password" ? passwords : nil)
            }
        }
        let tags = fields["tags"].flatMap { self.tags($0, "\(path).tags") }
        guard let name, let access, let mode else { return nil }
        return (name, StackUser(name: name, accessString: access, authenticationMode: mode, tags: tags))
    }

    /// `policy` is a template's name or an IAM document as JSON text (a YAML block scalar); the
    /// server checks it when it plans, with the document's own line numbers.
    mutating func accessKey(_ node: Node, _ path: String) -> (name: String, resource: StackAccessKey)? {
        guard let fields = mapping(node, path, allowed: Self.accessKeyFields, required: ["name", "policy"]) else { return nil }
        let name = fields["name"].flatMap { string($0, "\(path).name") }
        let policy = fields["policy"].flatMap { string($0, "\(path).policy") }
        let prefix = fields["prefix"].flatMap { string($0, "\(path).prefix") }
        var tag: Model.Tag?
        if let tagNode = fields["tag"], let tagFields = mapping(tagNode, "\(path).tag", allowed: ["key", "value"], required: ["key", "value"]) {
            if let key = tagFields["key"].flatMap({ string($0, "\(path).tag.key") }), let value = tagFields["value"].flatMap({ string($0, "\(path).tag.value") }) {
                tag = Model.Tag(key: key, value: value)
            }
        }
        guard let name, let policy else { return nil }
        return (name, StackAccessKey(name: name, policy: policy, prefix: prefix, tag: tag))
    }

    mutating func acl(_ node: Node, _ path: String) -> (name: String, resource: StackACL)? {
        guard let fields = mapping(node, path, allowed: Self.aclFields, required: ["name"]) else { return nil }
        let name = self.name(fields["name"], "\(path).name")
        var users: [String] = []
        if let list = fields["userNames"].flatMap({ list($0, "\(path).userNames") }) {
            for (index, item) in list.enumerated() {
                if let user = reference(item, "\(path).userNames[\(index)]") { users.append(user) }
            }
        }
        let tags = fields["tags"].flatMap { self.tags($0, "\(path).tags") }
        guard let name else { return nil }
        return (name, StackACL(name: name, userNames: users, tags: tags))
    }

    mutating func cluster(_ node: Node, _ path: String) -> (name: String, resource: StackCluster)? {
        let members = StackCluster.members
        let required = members.filter { if case .requiredString = $0.value { true } else { false } }.map(\.rest)
        guard let fields = mapping(node, path, allowed: members.map(\.rest), required: required) else { return nil }
        var cluster = StackCluster(name: "", nodeType: "", aclName: "")
        var complete = true
        for member in members {
            let field = fields[member.rest], memberPath = "\(path).\(member.rest)"
            let value: MemberValue?
            if member.rest == "name" {
                value = name(field, memberPath).map(MemberValue.string)
            } else if Self.clusterReferences.contains(member.rest) {
                value = reference(field, memberPath).map(MemberValue.string)
            } else if let field {
                switch member.value {
                case .requiredString, .string: value = string(field, memberPath).map(MemberValue.string)
                case .int, .count: value = int(field, memberPath).map(MemberValue.int)
                case .bool: value = bool(field, memberPath).map(MemberValue.bool)
                case .strings, .requiredStrings: value = strings(field, memberPath).map(MemberValue.strings)
                case .tags: value = tags(field, memberPath).map(MemberValue.tags)
                case .authentication:
                    fail(field, memberPath, "a cluster has no authentication mode")
                    value = nil
                }
            } else {
                value = nil
            }
            if value == nil, required.contains(member.rest) { complete = false }
            cluster.set(member, value)
        }
        guard complete else { return nil }
        return (cluster.name, cluster)
    }

    // MARK: References

    /// Every name a resource refers to must be in the document or already exist.
    mutating func checkReferences(_ document: StackDocument, existing: ExistingResources) {
        let users = existing.users.union(document.users.map(\.name))
        let acls = existing.acls.union(document.acls.map(\.name))
        let groups = existing.parameterGroups.union(document.parameterGroups.map(\.name))
        let subnets = existing.subnetGroups.union(document.subnetGroups.map(\.name))
        for (index, acl) in document.acls.enumerated() {
            for (position, user) in acl.userNames.enumerated() where !users.contains(user) {
                dangling("acls[\(index)].userNames[\(position)]", "user", user, section: "users")
            }
        }
        for (index, cluster) in document.clusters.enumerated() {
            if !acls.contains(cluster.aclName) { dangling("clusters[\(index)].aclName", "ACL", cluster.aclName, section: "acls") }
            if let group = cluster.parameterGroupName, !groups.contains(group) {
                dangling("clusters[\(index)].parameterGroupName", "parameter group", group, section: "parameterGroups")
            }
            if let subnet = cluster.subnetGroupName, !subnets.contains(subnet) {
                dangling("clusters[\(index)].subnetGroupName", "subnet group", subnet, section: "subnetGroups")
            }
        }
    }

    mutating func dangling(_ path: String, _ kind: String, _ name: String, section: String) {
        let mark = positions[path]
        problems.append(
            StackDocumentProblem(
                line: mark?.line, column: mark?.column, path: path,
                message: "no \(kind) named '\(name)': it is neither in the document's \(section) nor an existing \(kind)"))
    }
}
