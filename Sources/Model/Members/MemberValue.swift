/// One member's value apart from the request it sits in: what a stack document stores, what
/// its plan compares and shows, and what it copies from a CreateCluster input into an
/// UpdateCluster input (the two tables share REST names).
public enum MemberValue: Sendable, Hashable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case strings([String])
    case tags([Tag])
    case authentication(AuthenticationModeInput)

    /// As a plan shows it: lists sorted, tags as `{key=value, …}`.
    public var shown: String {
        switch self {
        case .string(let text): text
        case .int(let number): String(number)
        case .bool(let flag): String(flag)
        case .strings(let list): "[" + list.sorted().joined(separator: ", ") + "]"
        case .tags(let tags): "{" + Set(tags).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "}"
        // Passwords are never shown.
        case .authentication(let mode): "{type=\(mode.type)}"
        }
    }

    /// Order does not matter in a list of ids or a set of tags: `[b, a]` is `[a, b]`.
    public var canonical: MemberValue {
        switch self {
        case .strings(let list): .strings(list.sorted())
        case .tags(let tags): .tags(Set(tags).sorted { $0.key < $1.key })
        default: self
        }
    }
}

extension RequestMember.Value {
    /// The key path the value lives at, to find a member by the property it sets.
    public var keyPath: AnyKeyPath {
        switch self {
        case .requiredString(let path): path
        case .string(let path): path
        case .int(let path), .count(let path, _): path
        case .bool(let path): path
        case .strings(let path): path
        case .requiredStrings(let path): path
        case .authentication(let path, _): path
        case .tags(let path): path
        }
    }
}

extension RequestMember {
    /// The member's value in `request`; nil when it is not set (a required string left empty,
    /// tags left empty).
    public func value(in request: Request) -> MemberValue? {
        switch value {
        case .requiredString(let path): request[keyPath: path].isEmpty ? nil : .string(request[keyPath: path])
        case .string(let path): request[keyPath: path].map(MemberValue.string)
        case .int(let path), .count(let path, _): request[keyPath: path].map(MemberValue.int)
        case .bool(let path): request[keyPath: path].map(MemberValue.bool)
        case .strings(let path): request[keyPath: path].map(MemberValue.strings)
        case .requiredStrings(let path): .strings(request[keyPath: path])
        case .authentication(let path, _): request[keyPath: path].map(MemberValue.authentication)
        case .tags(let path): request[keyPath: path].isEmpty ? nil : .tags(request[keyPath: path])
        }
    }

    /// Sets (or, with nil, clears) the member in `request`. A value of another type than the
    /// member's is a programming error: the tables are read with their own types.
    public func set(_ new: MemberValue?, in request: inout Request) {
        switch (value, new) {
        case (.requiredString(let path), .string(let text)?): request[keyPath: path] = text
        case (.requiredString(let path), nil): request[keyPath: path] = ""
        case (.string(let path), .string(let text)?): request[keyPath: path] = text
        case (.string(let path), nil): request[keyPath: path] = nil
        case (.int(let path), .int(let number)?), (.count(let path, _), .int(let number)?): request[keyPath: path] = number
        case (.int(let path), nil), (.count(let path, _), nil): request[keyPath: path] = nil
        case (.bool(let path), .bool(let flag)?): request[keyPath: path] = flag
        case (.bool(let path), nil): request[keyPath: path] = nil
        case (.strings(let path), .strings(let list)?): request[keyPath: path] = list
        case (.strings(let path), nil): request[keyPath: path] = nil
        case (.requiredStrings(let path), .strings(let list)?): request[keyPath: path] = list
        case (.requiredStrings(let path), nil): request[keyPath: path] = []
        case (.authentication(let path, _), .authentication(let mode)?): request[keyPath: path] = mode
        case (.authentication(let path, _), nil): request[keyPath: path] = nil
        case (.tags(let path), .tags(let tags)?): request[keyPath: path] = tags
        case (.tags(let path), nil): request[keyPath: path] = []
        default: preconditionFailure("member \\(rest) set with a value of another type: \\(String(describing: new))")
        }
    }
}

extension TabledRequest {
    /// The row that sets the property at `path`.
    public static func member(at path: AnyKeyPath) -> RequestMember<Self>? { members.first { $0.value.keyPath == path } }

    /// The row with REST name `name`.
    public static func member(named name: String) -> RequestMember<Self>? { members.first { $0.rest == name } }
}
