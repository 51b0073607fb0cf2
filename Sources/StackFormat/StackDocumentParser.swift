import Foundation
import Model
import Yams

/// One thing wrong with a stack document, where it is.
public struct StackDocumentProblem: Sendable, Equatable, CustomStringConvertible {
    /// 1-based, as editors count; nil when the problem is the document as a whole.
    public var line: Int?
    public var column: Int?
    /// Where in the document, e.g. `clusters[0].numShards`.
    public var path: String
    public var message: String

    public var description: String {
        let place = line.map { "line \($0), column \(column ?? 1)" }
        return [place, path.isEmpty ? nil : path].compactMap { $0 }.joined(separator: ", ") + ": " + message
    }
}

/// Everything wrong with a document, each with its line and column.
public struct StackDocumentError: Error, Sendable, CustomStringConvertible {
    public var problems: [StackDocumentProblem]

    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}

/// The names a document may refer to without declaring them: built-in and existing resources.
public struct ExistingResources: Sendable, Equatable {
    public var parameterGroups: Set<String>
    public var subnetGroups: Set<String>
    public var users: Set<String>
    public var acls: Set<String>

    public init(parameterGroups: Set<String> = [], subnetGroups: Set<String> = [], users: Set<String> = [], acls: Set<String> = []) {
        self.parameterGroups = parameterGroups.union(ParameterCatalog.defaultGroups.map(\.name))
        self.subnetGroups = subnetGroups.union([BuiltinResources.defaultSubnetGroupName])
        self.users = users.union([BuiltinResources.defaultUserName])
        self.acls = acls.union([BuiltinResources.openAccessACLName])
    }
}

/// Reads a stack document (YAML, or JSON, which is YAML too) into a `StackDocument`.
///
/// Written over Yams' node tree rather than `Decodable` so every problem carries the line and
/// column it is at, and so all of them are reported at once: an unknown field (with the closest
/// known name), a wrong type, a missing field, a duplicate name, a dangling reference.
public enum StackDocumentParser {
    /// - Parameters:
    ///   - environment: values for `${env:NAME}`; nil where no environment may be read (the
    ///     server), so a placeholder is refused there.
    ///   - existing: resources outside the document that it may refer to; nil to skip the check.
    public static func parse(_ text: String, environment: [String: String]?, existing: ExistingResources?) throws(StackDocumentError) -> StackDocument {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw StackDocumentError(problems: [problem(from: error)])
        } catch {
            throw StackDocumentError(problems: [StackDocumentProblem(path: "", message: "not a YAML or JSON document: \(error)")])
        }
        guard let root else {
            throw StackDocumentError(problems: [StackDocumentProblem(line: 1, column: 1, path: "", message: "the document is empty; it needs at least 'stack: <name>'")])
        }
        var reader = NodeReader(environment: environment)
        let document = reader.document(root)
        if let document, let existing { reader.checkReferences(document, existing: existing) }
        guard reader.problems.isEmpty, let document else { throw StackDocumentError(problems: reader.problems) }
        return document
    }

    /// Only the document's stack name: enough for `output` and `destroy`, which need no secrets.
    public static func stackName(_ text: String) throws(StackDocumentError) -> String {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw StackDocumentError(problems: [problem(from: error)])
        } catch {
            throw StackDocumentError(problems: [StackDocumentProblem(path: "", message: "not a YAML or JSON document: \(error)")])
        }
        guard case .mapping(let mapping)? = root, let node = mapping["stack"], case .scalar(let scalar) = node, !scalar.string.isEmpty else {
            throw StackDocumentError(problems: [StackDocumentProblem(line: 1, column: 1, path: "stack", message: "the document names no stack ('stack: <name>')")])
        }
        return scalar.string.lowercased()
    }

    static func problem(from error: YamlError) -> StackDocumentProblem {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return StackDocumentProblem(line: mark.line, column: mark.column, path: "", message: "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return StackDocumentProblem(
                line: context.mark.line, column: context.mark.column, path: "", message: "a key appears twice: \(duplicates.joined(separator: ", "))")
        default:
            return StackDocumentProblem(path: "", message: "not valid YAML: \(error)")
        }
    }
}

/// Walks the node tree, collecting problems instead of stopping at the first.
struct NodeReader {
    var problems: [StackDocumentProblem] = []
    let environment: [String: String]?
    /// Where each name-bearing node is, for reference errors: `clusters[0].aclName` → node.
    var positions: [String: Mark] = [:]

    init(environment: [String: String]?) {
        self.environment = environment
    }

    mutating func fail(_ node: Node?, _ path: String, _ message: String) {
        problems.append(StackDocumentProblem(line: node?.mark?.line, column: node?.mark?.column, path: path, message: message))
    }

    // MARK: Shapes

    /// A mapping's values by key; unknown and duplicate keys and missing required ones are problems.
    mutating func mapping(_ node: Node, _ path: String, allowed: [String], required: [String]) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            fail(node, path, "must be a mapping of \(allowed.joined(separator: ", ")); got \(kind(of: node))")
            return nil
        }
        var values: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode else {
                fail(keyNode, path, "keys must be plain names")
                continue
            }
            let childPath = path.isEmpty ? key.string : "\(path).\(key.string)"
            guard allowed.contains(key.string) else {
                let hint = Self.closest(key.string, among: allowed).map { " — did you mean '\($0)'?" } ?? ""
                fail(keyNode, childPath, "unknown field '\(key.string)'\(hint) (fields here: \(allowed.joined(separator: ", ")))")
                continue
            }
            guard values[key.string] == nil else {
                fail(keyNode, childPath, "'\(key.string)' is given twice")
                continue
            }
            if case .scalar(let scalar) = value, scalar.style == .plain, Self.isNull(scalar.string) {
                continue  // `field:` or `field: null` is the same as leaving it out
            }
            values[key.string] = value
        }
        for name in required where values[name] == nil {
            fail(node, path.isEmpty ? name : "\(path).\(name)", "'\(name)' is required")
        }
        return values
    }

    mutating func list(_ node: Node, _ path: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            fail(node, path, "must be a list; got \(kind(of: node))")
            return nil
        }
        return Array(sequence)
    }

    mutating func string(_ node: Node, _ path: String) -> String? {
        guard case .scalar(let scalar) = node else {
            fail(node, path, "must be a string; got \(kind(of: node))")
            return nil
        }
        return substitute(scalar.string, node, path)
    }

    mutating func int(_ node: Node, _ path: String) -> Int? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Int(scalar.string) else {
            fail(node, path, "must be a whole number; got \(kind(of: node))")
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node, _ path: String) -> Bool? {
        if case .scalar(let scalar) = node, scalar.style == .plain {
            switch scalar.string {
            case "true": return true
            case "false": return false
            default: break
            }
        }
        fail(node, path, "must be true or false; got \(kind(of: node))")
        return nil
    }

    mutating func strings(_ node: Node, _ path: String) -> [String]? {
        guard let items = list(node, path) else { return nil }
        var values: [String] = []
        for (index, item) in items.enumerated() {
            if let value = string(item, "\(path)[\(index)]") { values.append(value) }
        }
        return values
    }

    mutating func stringMap(_ node: Node, _ path: String) -> [String: String]? {
        guard case .mapping(let mapping) = node else {
            fail(node, path, "must be a mapping of names to values; got \(kind(of: node))")
            return nil
        }
        var values: [String: String] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode else {
                fail(keyNode, path, "keys must be plain names")
                continue
            }
            guard values[key.string] == nil else {
                fail(keyNode, "\(path).\(key.string)", "'\(key.string)' is given twice")
                continue
            }
            guard case .scalar = value else {
                fail(value, "\(path).\(key.string)", "must be a single value; got \(kind(of: value))")
                continue
            }
            if let text = string(value, "\(path).\(key.string)") { values[key.string] = text }
        }
        return values
    }

    mutating func tags(_ node: Node, _ path: String) -> [Model.Tag]? {
        guard let items = list(node, path) else { return nil }
        var tags: [Model.Tag] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard let fields = mapping(item, itemPath, allowed: ["key", "value"], required: ["key"]) else { continue }
            guard let key = fields["key"].flatMap({ string($0, "\(itemPath).key") }) else { continue }
            let value = fields["value"].flatMap { string($0, "\(itemPath).value") } ?? ""
            tags.append(Model.Tag(key: key, value: value))
        }
        return tags
    }

    /// A resource's own name: lower-cased as the API stores it, and checked by its rules.
    mutating func name(_ node: Node?, _ path: String, maxLength: Int = 40) -> String? {
        guard let node, let raw = string(node, path) else { return nil }
        do {
            return try ResourceName.normalise(raw, field: path, maxLength: maxLength)
        } catch {
            fail(node, path, error.message)
            return nil
        }
    }

    /// A reference to another resource by name, remembered with its place for the reference check.
    mutating func reference(_ node: Node?, _ path: String) -> String? {
        guard let node, let raw = string(node, path) else { return nil }
        if let mark = node.mark { positions[path] = mark }
        return raw.lowercased()
    }

    /// `${env:NAME}` replaced by the variable's value.
    mutating func substitute(_ text: String, _ node: Node, _ path: String) -> String? {
        guard text.contains("${env:") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${env:") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                fail(node, path, "'${env:' is not closed with '}'")
                return nil
            }
            let name = String(rest[start.upperBound..<end])
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                fail(node, path, "'${env:\(name)}' does not name an environment variable (letters, digits and _)")
                return nil
            }
            guard let environment else {
                fail(node, path, "${env:\(name)} is filled in by the memoryplane CLI from its environment; the server does not read its own. Run `memoryplane plan/apply -f FILE`, or send the value itself")
                return nil
            }
            guard let value = environment[name] else {
                fail(node, path, "environment variable \(name) is not set (${env:\(name)})")
                return nil
            }
            result += value
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    func kind(of node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain && Self.isNull(scalar.string) { return "nothing" }
            return scalar.style == .plain ? "'\(scalar.string)'" : "the string \"\(scalar.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    static func isNull(_ text: String) -> Bool { ["", "~", "null", "Null", "NULL"].contains(text) }

    /// The known name nearest to a misspelt one (at most two edits, or the same but for case).
    static func closest(_ word: String, among names: [String]) -> String? {
        if let same = names.first(where: { $0.lowercased() == word.lowercased() }) { return same }
        let scored = names.map { ($0, distance(word, $0)) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        guard !x.isEmpty else { return y.count }
        guard !y.isEmpty else { return x.count }
        var previous = Array(0...y.count)
        for i in 1...x.count {
            var current = [i] + Array(repeating: 0, count: y.count)
            for j in 1...y.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[y.count]
    }
}
