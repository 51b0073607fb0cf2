import Foundation

/// Rewrites the field names in a validation message for the AWS door: the services name fields
/// as REST spells them (`subnetGroupName`, `tags[0].value`); an AWS caller must read the member
/// it sent (`SubnetGroupName`, `Tags[0].Value`).
enum AWSFieldNames {
    /// The message with every REST field name of `operation`'s members in its AWS spelling.
    static func translate(_ message: String, operation: String, members: Set<String>) -> String {
        var names: [String: String] = ["key": "Key", "value": "Value"]
        for member in members { names[lowerCamel(member)] = member }
        if let resource = resourceMember(of: operation), members.contains(resource) { names["name"] = resource }
        // UpdateCluster nests the counts.
        if members.contains("ShardConfiguration") { names["numShards"] = "ShardConfiguration.ShardCount" }
        if members.contains("ReplicaConfiguration") { names["numReplicasPerShard"] = "ReplicaConfiguration.ReplicaCount" }
        var result = message
        // Longest first, so `subnetGroupName` is rewritten before a name it contains.
        for (rest, aws) in names.sorted(by: { $0.key.count > $1.key.count }) where rest != aws {
            let pattern = "(?<![A-Za-z0-9_'-])" + NSRegularExpression.escapedPattern(for: rest) + "(?![A-Za-z0-9_'-])"
            guard let regex = try? NSRegularExpression(pattern: pattern) else { continue }
            // `key`, `value` and `name` are ordinary words too: only rewrite them as field paths
            // (after a dot or bracket, at the start, or quoted).
            if ["key", "value", "name"].contains(rest) {
                result = rewriteFieldUses(of: rest, as: aws, in: result)
                continue
            }
            result = regex.stringByReplacingMatches(
                in: result, range: NSRange(result.startIndex..., in: result), withTemplate: NSRegularExpression.escapedTemplate(for: aws))
        }
        return result
    }

    /// `key`/`value`/`name` rewritten only where they are a field: at the start of the message
    /// or as the last step of a path (`tags[0].value`); never inside quotes (the caller's data).
    private static func rewriteFieldUses(of word: String, as member: String, in text: String) -> String {
        let escaped = NSRegularExpression.escapedPattern(for: word)
        let pattern = "(^|\\.)" + escaped + "(?=[ \\[.=]|$)"
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return text }
        return regex.stringByReplacingMatches(
            in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "$1" + NSRegularExpression.escapedTemplate(for: member))
    }

    /// `ACLName` → `aclName`, `TLSEnabled` → `tlsEnabled`, `SubnetGroupName` → `subnetGroupName`.
    static func lowerCamel(_ member: String) -> String {
        let characters = Array(member)
        var upperRun = 0
        while upperRun < characters.count, characters[upperRun].isUppercase { upperRun += 1 }
        guard upperRun > 0 else { return member }
        // In "ACLName" the run is "ACLN": its last letter starts the next word.
        let lowered = upperRun > 1 && upperRun < characters.count ? upperRun - 1 : upperRun
        return String(characters[..<lowered]).lowercased() + String(characters[lowered...])
    }

    /// The member naming the resource an operation acts on.
    static func resourceMember(of operation: String) -> String? {
        for (suffix, member) in [
            ("ParameterGroup", "ParameterGroupName"), ("SubnetGroup", "SubnetGroupName"), ("Cluster", "ClusterName"), ("User", "UserName"),
            ("ACL", "ACLName"),
        ] where operation.hasSuffix(suffix) {
            return member
        }
        return nil
    }
}
