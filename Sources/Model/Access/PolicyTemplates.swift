/// The built-in policies an access key can be given by name.
public enum PolicyTemplates {
    /// Everything.
    public static let admin = IAMPolicy(statements: [IAMPolicy.Statement(sid: "Admin", effect: .allow, actions: ["memorydb:*"], resources: ["*"])])

    /// Reads only: every Describe and List, nothing that changes anything.
    public static let readOnly = IAMPolicy(statements: [
        IAMPolicy.Statement(sid: "ReadOnly", effect: .allow, actions: ["memorydb:Describe*", "memorydb:List*"], resources: ["*"])
    ])

    /// What a CI pipeline needs: read everything; create, change and delete the clusters, users
    /// and ACLs whose name starts with `prefix` (and use any ACL, parameter group and subnet group
    /// in a cluster it creates), or, with `tag`, those carrying that tag.
    public static func ci(prefix: String? = nil, tag: Tag? = nil) -> IAMPolicy {
        let writes = [
            "memorydb:CreateCluster", "memorydb:UpdateCluster", "memorydb:DeleteCluster", "memorydb:FailoverShard", "memorydb:StopCluster",
            "memorydb:StartCluster",
            "memorydb:CreateSnapshot", "memorydb:DeleteSnapshot", "memorydb:TagResource", "memorydb:UntagResource",
            "memorydb:CreateUser", "memorydb:UpdateUser", "memorydb:DeleteUser", "memorydb:CreateACL", "memorydb:UpdateACL",
            "memorydb:DeleteACL", "memorydb:CopySnapshot", "memorydb:VerifySnapshot", "memorydb:StartDrill", "memorydb:ApplyStack",
            "memorydb:DeleteStack",
        ]
        var statements = [IAMPolicy.Statement(sid: "ReadEverything", effect: .allow, actions: ["memorydb:Describe*", "memorydb:List*"], resources: ["*"])]
        if let prefix {
            statements.append(
                IAMPolicy.Statement(
                    sid: "OwnResources", effect: .allow, actions: writes,
                    resources: ["cluster", "user", "acl", "snapshot", "stack"].map { "arn:aws:memorydb:*:*:\($0)/\(prefix)*" }))
        }
        if let tag {
            statements.append(
                IAMPolicy.Statement(
                    sid: "TaggedResources", effect: .allow, actions: writes, resources: ["*"],
                    conditions: [IAMPolicy.Condition(.stringEquals, ConditionKeys.resourceTag(tag.key), [tag.value])]))
            // A resource that does not exist yet has no tags: it may be created carrying the tag.
            // Never TagResource: that would let the key tag someone else's cluster and take it.
            statements.append(
                IAMPolicy.Statement(
                    sid: "CreateTagged", effect: .allow,
                    actions: ["memorydb:CreateCluster", "memorydb:CreateUser", "memorydb:CreateACL", "memorydb:CreateSnapshot"], resources: ["*"],
                    conditions: [IAMPolicy.Condition(.stringEquals, ConditionKeys.requestTag(tag.key), [tag.value])]))
        }
        // A cluster it creates may use what exists: the ACL, parameter group and subnet group it names.
        statements.append(
            IAMPolicy.Statement(
                sid: "UseSharedResources", effect: .allow, actions: ["memorydb:CreateCluster", "memorydb:UpdateCluster"],
                resources: ["arn:aws:memorydb:*:*:acl/*", "arn:aws:memorydb:*:*:parametergroup/*", "arn:aws:memorydb:*:*:subnetgroup/*"]))
        return IAMPolicy(statements: statements)
    }
}
