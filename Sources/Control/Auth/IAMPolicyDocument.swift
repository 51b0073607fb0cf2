import Foundation
import Model

/// Reads an IAM policy document (JSON, as IAM writes them) into an `IAMPolicy`, refusing what
/// MemoryPlane would not enforce as written, with the line and the reason: a principal (this is
/// an identity policy), an action outside `memorydb:`, an operator it does not evaluate.
public enum IAMPolicyDocument {
    static let versions: Set<String> = ["2012-10-17", "2008-10-17"]
    static let statementKeys: Set<String> = ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"]

    public static func parse(_ text: String) throws(MemoryDBError) -> IAMPolicy {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        } catch {
            throw invalid(text, nil, "the policy is not valid JSON (\(error.localizedDescription))")
        }
        return try parse(object: object, lines: text)
    }

    /// A document already read from JSON (a REST body's `policy` object); refusals name the
    /// line of `lines` (the body as sent) where the offending element first appears.
    public static func parse(object: Any, lines text: String) throws(MemoryDBError) -> IAMPolicy {
        guard let document = object as? [String: Any] else { throw invalid(text, nil, "the policy must be a JSON object") }
        for key in document.keys.sorted() where !["Version", "Statement", "Id"].contains(key) {
            throw invalid(text, "\"\(key)\"", "unknown policy element '\(key)' (Version, Id and Statement are)")
        }
        guard let version = document["Version"] as? String, versions.contains(version) else {
            throw invalid(text, "\"Version\"", "Version must be \"2012-10-17\"")
        }
        let raw: [Any]
        switch document["Statement"] {
        case let list as [Any]: raw = list
        case let single as [String: Any]: raw = [single]
        default: throw invalid(text, "\"Statement\"", "Statement must be a statement or a list of them")
        }
        guard !raw.isEmpty else { throw invalid(text, "\"Statement\"", "the policy has no statement") }
        return IAMPolicy(statements: try raw.map { item throws(MemoryDBError) in try statement(item, text) })
    }

    static func statement(_ item: Any, _ text: String) throws(MemoryDBError) -> IAMPolicy.Statement {
        guard let fields = item as? [String: Any] else { throw invalid(text, "\"Statement\"", "each statement must be a JSON object") }
        if fields["Principal"] != nil || fields["NotPrincipal"] != nil {
            throw invalid(text, "\"Principal\"", "an access key's policy names no Principal (the key is the principal)")
        }
        for key in fields.keys.sorted() where !statementKeys.contains(key) {
            throw invalid(text, "\"\(key)\"", "unknown statement element '\(key)' (\(statementKeys.sorted().joined(separator: ", ")))")
        }
        guard let effectText = fields["Effect"] as? String, let effect = IAMPolicy.Effect(rawValue: effectText) else {
            let given = fields["Effect"].map { "\($0)" } ?? "nothing"
            throw invalid(text, fields["Effect"].map { "\"\($0)\"" } ?? "\"Statement\"", "Effect must be Allow or Deny; got \(given)")
        }
        let (actions, notActions) = try pair(fields, "Action", "NotAction", text)
        for action in actions where action != "*" && !action.lowercased().hasPrefix("memorydb:") {
            throw invalid(text, "\"\(action)\"", "the action '\(action)' is not MemoryDB's (actions are memorydb:<Operation>, with * and ?)")
        }
        let (resources, notResources) = try pair(fields, "Resource", "NotResource", text)
        var statement = IAMPolicy.Statement(sid: fields["Sid"] as? String, effect: effect, actions: actions, resources: resources)
        statement.notActions = notActions
        statement.notResources = notResources
        statement.conditions = try conditions(fields["Condition"], text)
        return statement
    }

    /// `Action` or `NotAction` (exactly one), as a string or a list of strings.
    static func pair(_ fields: [String: Any], _ name: String, _ negated: String, _ text: String) throws(MemoryDBError) -> ([String], Bool) {
        switch (fields[name], fields[negated]) {
        case (let value?, nil): return (try strings(value, name, text), false)
        case (nil, let value?): return (try strings(value, negated, text), true)
        case (nil, nil): throw invalid(text, "\"Effect\"", "a statement needs \(name) (or \(negated))")
        default: throw invalid(text, "\"\(negated)\"", "a statement has \(name) or \(negated), not both")
        }
    }

    static func strings(_ value: Any, _ name: String, _ text: String) throws(MemoryDBError) -> [String] {
        if let single = value as? String { return [single] }
        guard let list = value as? [Any], let strings = list as? [String], strings.count == list.count, !strings.isEmpty else {
            throw invalid(text, "\"\(name)\"", "\(name) must be a string or a non-empty list of strings")
        }
        return strings
    }

    static func conditions(_ value: Any?, _ text: String) throws(MemoryDBError) -> [IAMPolicy.Condition] {
        guard let value else { return [] }
        guard let operators = value as? [String: Any] else { throw invalid(text, "\"Condition\"", "Condition must be {operator: {key: value(s)}}") }
        var result: [IAMPolicy.Condition] = []
        for (name, keys) in operators.sorted(by: { $0.key < $1.key }) {
            guard let test = IAMPolicy.ConditionTest(rawValue: name) else {
                let known = IAMPolicy.ConditionTest.allCases.map(\.rawValue).joined(separator: ", ")
                throw invalid(text, "\"\(name)\"", "the condition operator '\(name)' is not evaluated here (\(known) are)")
            }
            guard let pairs = keys as? [String: Any], !pairs.isEmpty else { throw invalid(text, "\"\(name)\"", "\(name) must map condition keys to values") }
            for (key, values) in pairs.sorted(by: { $0.key < $1.key }) {
                guard Self.knownConditionKey(key) else {
                    throw invalid(
                        text, "\"\(key)\"",
                        "the condition key '\(key)' is never set here (aws:ResourceTag/<key>, aws:RequestTag/<key> and "
                            + ConditionKeys.nameMembers.map { "memorydb:\($0)" }.joined(separator: ", ") + " are)")
                }
                result.append(IAMPolicy.Condition(test, key, try strings(values, key, text)))
            }
        }
        return result
    }

    /// A key the server sets on some request: a test of any other would silently never hold.
    static func knownConditionKey(_ key: String) -> Bool {
        for prefix in ["aws:ResourceTag/", "aws:RequestTag/"] where key.hasPrefix(prefix) { return key.count > prefix.count }
        return ConditionKeys.nameMembers.contains { "memorydb:\($0)".caseInsensitiveCompare(key) == .orderedSame }
    }

    /// The policy as an IAM document (sorted keys, one line): what is stored and shown.
    public static func render(_ policy: IAMPolicy) -> String {
        let statements: [[String: Any]] = policy.statements.map { statement in
            var object: [String: Any] = ["Effect": statement.effect.rawValue]
            object[statement.notActions ? "NotAction" : "Action"] = statement.actions
            object[statement.notResources ? "NotResource" : "Resource"] = statement.resources
            if let sid = statement.sid { object["Sid"] = sid }
            if !statement.conditions.isEmpty {
                var operators: [String: [String: [String]]] = [:]
                for condition in statement.conditions { operators[condition.test.rawValue, default: [:]][condition.key] = condition.values }
                object["Condition"] = operators
            }
            return object
        }
        let document: [String: Any] = ["Version": "2012-10-17", "Statement": statements]
        // Strings, lists and objects of them only: serialisation cannot fail.
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The refusal, placed at the first line where `token` appears in the document.
    static func invalid(_ text: String, _ token: String?, _ reason: String) -> MemoryDBError {
        guard let token, let range = text.range(of: token) else { return MemoryDBError.invalid("policy: \(reason).") }
        let line = text[..<range.lowerBound].reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
        return MemoryDBError.invalid("policy, line \(line): \(reason).")
    }
}
