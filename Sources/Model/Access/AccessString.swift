/// A user's access string, validated and normalised as MemoryDB does.
///
/// MemoryDB accepts Redis ACL rules but never credentials or resets, and stores the string in a
/// canonical order: state, key patterns, channel rules, command rules, with the defaults spelled
/// out (`~objects:* ~items:*` is stored as `off ~objects:* ~items:* resetchannels -@all`).
public struct AccessString: Sendable, Equatable, CustomStringConvertible {
    public var enabled: Bool
    public var keyRules: [String]
    public var channelRules: [String]
    public var commandRules: [String]

    public var description: String {
        ([enabled ? "on" : "off"] + keyRules + (channelRules.isEmpty ? ["resetchannels"] : channelRules)
            + (commandRules.isEmpty ? ["-@all"] : commandRules)).joined(separator: " ")
    }

    /// The rules in canonical order, as separate tokens (for `ACL SETUSER`).
    public var tokens: [String] { [enabled ? "on" : "off"] + keyRules + channelRules + commandRules }

    public init(parsing text: String) throws(MemoryDBError) {
        var enabled = false
        var keys: [String] = []
        var channels: [String] = []
        var commands: [String] = []
        // Tabs separate rules; any other control character would end up in a node's config file.
        try TextRules.refuseControlCharacters(text.replacingTabs(), field: "accessString")
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard !tokens.isEmpty else { throw .invalid("accessString must not be empty.") }
        for token in tokens {
            let lower = token.lowercased()
            switch lower {
            case "on": enabled = true
            case "off": enabled = false
            case "allkeys", "resetkeys": keys.append(lower)
            case "allchannels", "resetchannels": channels.append(lower)
            case "allcommands", "nocommands": commands.append(lower)
            case "nopass", "resetpass", "reset", "clearselectors":
                throw .invalid("accessString must not contain '\(token)': passwords are set with the user's authentication, and 'reset' is not allowed.")
            default:
                if let first = token.first, ">#<!".contains(first) {
                    throw .invalid("accessString must not contain passwords or password hashes ('\(first)...').")
                }
                if token.hasPrefix("~") || token.hasPrefix("%") {
                    guard Self.isKeyPattern(token) else { throw .invalid("accessString: '\(token)' is not a key pattern (~pattern, %R~, %W~, %RW~).") }
                    keys.append(token)
                } else if token.hasPrefix("&") {
                    guard token.count > 1 else { throw .invalid("accessString: '&' needs a channel pattern.") }
                    channels.append(token)
                } else if token.hasPrefix("+") || token.hasPrefix("-") {
                    try Self.checkCommandRule(token)
                    commands.append(Self.lowercasedCommand(token))
                } else if token.hasPrefix("(") {
                    throw .invalid("accessString: selectors ('(...)') are not supported.")
                } else {
                    throw .invalid("accessString: '\(token)' is not an ACL rule.")
                }
            }
        }
        self.enabled = enabled
        keyRules = keys
        channelRules = channels
        commandRules = commands
    }

    static func isKeyPattern(_ token: String) -> Bool {
        if token.hasPrefix("~") { return token.count > 1 }
        for prefix in ["%R~", "%W~", "%RW~"] where token.uppercased().hasPrefix(prefix) {
            return token.count > prefix.count
        }
        return false
    }

    static func lowercasedCommand(_ token: String) -> String {
        guard let first = token.first else { return token }
        return String(first) + token.dropFirst().lowercased()
    }

    static func checkCommandRule(_ token: String) throws(MemoryDBError) {
        let body = token.dropFirst().lowercased()
        if body.hasPrefix("@") {
            let category = String(body.dropFirst())
            guard category == "all" || RedisCommandCatalog.categories.contains(category) else {
                throw .invalid("accessString: '\(token)' names no ACL category; categories are all, \(RedisCommandCatalog.categories.sorted().joined(separator: ", ")).")
            }
            return
        }
        guard RedisCommandCatalog.commands.contains(body) else {
            throw .invalid("accessString: '\(token)' names no Redis command.")
        }
    }

    /// Whether the key rules grant every key.
    public var grantsAllKeys: Bool {
        keyRules.contains { $0 == "~*" || $0 == "allkeys" || $0.uppercased() == "%RW~*" }
    }

    /// The rules to give a node: the normalised string plus the restricted-command denials.
    /// A user limited to some keys also loses the commands that wipe keys without naming them
    /// (FLUSHALL, FLUSHDB, SWAPDB): Redis checks key patterns only on keys a command names.
    public var nodeRules: String {
        description + (grantsAllKeys ? "" : " -flushall -flushdb -swapdb") + " " + RestrictedCommands.aclRules
    }
}

extension String {
    fileprivate func replacingTabs() -> String { String(unicodeScalars.map { $0 == "\t" ? " " : Character($0) }) }
}
