import Ports
/// Turns MemoryDB parameter names and values into Redis configuration directives.
///
/// Most map one to one; MemoryDB splits `client-output-buffer-limit <class> <hard> <soft>
/// <seconds>` into three parameters per class, which are joined back here.
public enum RedisDirectives {
    static let bufferClasses = ["normal", "pubsub"]

    /// Directives in a stable order (name, arguments), for both the config file and CONFIG SET.
    public static func from(_ parameters: [String: String]) -> [(name: String, value: String)] {
        var directives: [(String, String)] = []
        var handled = Set<String>()
        // One directive for every class: CONFIG SET refuses the same name twice.
        var limits: [String] = []
        for bufferClass in bufferClasses {
            let prefix = "client-output-buffer-limit-\(bufferClass)-"
            let keys = ["hard-limit", "soft-limit", "soft-seconds"].map { prefix + $0 }
            guard keys.allSatisfy({ parameters[$0] != nil }) else { continue }
            handled.formUnion(keys)
            limits.append("\(bufferClass) " + keys.compactMap { parameters[$0] }.joined(separator: " "))
        }
        if !limits.isEmpty { directives.append(("client-output-buffer-limit", limits.joined(separator: " "))) }
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) where !handled.contains(name) {
            directives.append((name, value))
        }
        return directives
    }

    /// A directive as a config-file line: empty values are written as `""`.
    static func line(_ directive: (name: String, value: String)) -> String {
        "\(directive.name) \(directive.value.isEmpty ? "\"\"" : directive.value)"
    }
}
