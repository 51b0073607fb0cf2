import Foundation
import Model

/// The policy a key is given: an IAM document, or a built-in template by name.
public struct AccessKeyPolicy: Sendable {
    public var policy: IAMPolicy
    /// The template's name, nil for a document.
    public var template: String?

    public init(policy: IAMPolicy, template: String?) {
        self.policy = policy
        self.template = template
    }

    /// `admin` (everything), `read-only` (every Describe and List), `ci` (read everything; change
    /// only what is named with `prefix` or tagged with `tag`).
    public static let templateNames = ["admin", "read-only", "ci"]

    /// A built-in template; only `ci` takes a prefix or a tag, and needs one of them.
    public static func template(_ name: String, prefix: String?, tag: Tag?) throws(MemoryDBError) -> AccessKeyPolicy {
        if name != "ci" && (prefix != nil || tag != nil) {
            throw MemoryDBError(.invalidParameterCombination, "prefix and tag belong to the ci template only, not '\(name)'.")
        }
        switch name {
        case "admin": return AccessKeyPolicy(policy: PolicyTemplates.admin, template: name)
        case "read-only": return AccessKeyPolicy(policy: PolicyTemplates.readOnly, template: name)
        case "ci":
            guard prefix != nil || tag != nil else {
                throw MemoryDBError(
                    .invalidParameterCombination, "The ci template needs prefix (e.g. \"ci-\": the names it may change) or tag (key and value), or both.")
            }
            if let prefix, prefix.isEmpty || prefix.contains("*") || prefix.contains("?") {
                throw MemoryDBError.invalid("prefix must be a non-empty name prefix without * or ?; got '\(prefix)'.")
            }
            return AccessKeyPolicy(policy: PolicyTemplates.ci(prefix: prefix, tag: tag), template: name)
        default:
            throw MemoryDBError.invalid(
                "policy '\(name)' is neither a built-in template (\(templateNames.joined(separator: ", "))) nor an IAM policy document.")
        }
    }

    /// A policy given as text: a template's name, or an IAM document (refusals name its line).
    public static func parse(_ text: String, prefix: String?, tag: Tag?) throws(MemoryDBError) -> AccessKeyPolicy {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("{") else { return try template(trimmed, prefix: prefix, tag: tag) }
        try noTemplateParameters(prefix, tag)
        return AccessKeyPolicy(policy: try IAMPolicyDocument.parse(text), template: nil)
    }

    /// A document given as a JSON object inside a request whose text is `lines`.
    public static func document(object: Any, lines: String, prefix: String?, tag: Tag?) throws(MemoryDBError) -> AccessKeyPolicy {
        try noTemplateParameters(prefix, tag)
        return AccessKeyPolicy(policy: try IAMPolicyDocument.parse(object: object, lines: lines), template: nil)
    }

    static func noTemplateParameters(_ prefix: String?, _ tag: Tag?) throws(MemoryDBError) {
        if prefix != nil || tag != nil {
            throw MemoryDBError(.invalidParameterCombination, "prefix and tag belong to the ci template; a policy document says everything itself.")
        }
    }

    /// IAM's rule for user names: 1 to 64 of letters, digits and `+=,.@_-`.
    public static func validate(name: String) throws(MemoryDBError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-")
        guard (1...64).contains(name.count), name.allSatisfy({ allowed.contains($0) }) else {
            throw MemoryDBError.invalid("name must be 1 to 64 letters, digits or +=,.@_- (IAM's rule for a principal); got '\(name)'.")
        }
    }
}
