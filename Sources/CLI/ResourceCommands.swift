import ArgumentParser
import Foundation
import NIOHTTP1

/// One kind of resource the CLI manages through the REST API.
protocol ResourceKind {
    /// `clusters`, `parameter-groups`, ...: the command's name and the REST path.
    static var name: String { get }
    /// The list's key in a list reply.
    static var listKey: String { get }
    /// Table columns: header and key path.
    static var columns: [(String, String)] { get }
    /// `GET /v1/<name>/<id>` exists; otherwise a get lists with `?name=`.
    static var hasGet: Bool { get }
    static var verbs: Set<String> { get }
    /// Statuses a wait ends at (a deletion waits for the resource to be gone).
    static var settled: Set<String> { get }
}

extension ResourceKind {
    static var hasGet: Bool { false }
    static var verbs: Set<String> { ["list", "get", "create", "update", "delete"] }
    static var settled: Set<String> { [] }
}

enum ClusterKind: ResourceKind {
    static let name = "clusters"
    static let listKey = "clusters"
    static let columns = [
        ("NAME", "name"), ("STATUS", "status"), ("NODE TYPE", "nodeType"), ("SHARDS", "numberOfShards"), ("ENDPOINT", "clusterEndpoint"),
        ("TLS", "tlsEnabled"), ("ACL", "aclName"),
    ]
    static let hasGet = true
    static let settled: Set<String> = ["available"]
    static let verbs: Set<String> = ["list", "get", "create", "update", "delete", "stop", "start"]
}

enum ParameterGroupKind: ResourceKind {
    static let name = "parameter-groups"
    static let listKey = "parameterGroups"
    static let columns = [("NAME", "name"), ("FAMILY", "family"), ("DESCRIPTION", "description")]
}

enum UserKind: ResourceKind {
    static let name = "users"
    static let listKey = "users"
    static let columns = [("NAME", "name"), ("STATUS", "status"), ("ACCESS STRING", "accessString"), ("ACLS", "aclNames")]
}

enum ACLKind: ResourceKind {
    static let name = "acls"
    static let listKey = "acls"
    static let columns = [("NAME", "name"), ("STATUS", "status"), ("USERS", "userNames"), ("CLUSTERS", "clusters")]
}

enum SubnetGroupKind: ResourceKind {
    static let name = "subnet-groups"
    static let listKey = "subnetGroups"
    static let columns = [("NAME", "name"), ("DESCRIPTION", "description"), ("SUBNETS", "subnets")]
}

enum SnapshotKind: ResourceKind {
    static let name = "snapshots"
    static let listKey = "snapshots"
    static let columns = [("NAME", "name"), ("STATUS", "status"), ("SOURCE", "source"), ("CLUSTER", "clusterConfiguration.name")]
    static let hasGet = true
    static let verbs: Set<String> = ["list", "get", "create", "delete"]
    static let settled: Set<String> = ["available"]
}

enum EventKind: ResourceKind {
    static let name = "events"
    static let listKey = "events"
    static let columns = [("DATE", "date"), ("TYPE", "sourceType"), ("SOURCE", "sourceName"), ("MESSAGE", "message")]
    static let verbs: Set<String> = ["list"]
}

enum StackKind: ResourceKind {
    static let name = "stacks"
    static let listKey = "stacks"
    static let columns = [("NAME", "name"), ("STATUS", "status"), ("RESOURCES", "resources"), ("DRIFT", "drift")]
    static let hasGet = true
    static let verbs: Set<String> = ["list", "get"]
}

/// `memoryplane <kind> list|get|create|update|delete`.
struct ResourceCommand<Kind: ResourceKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        let all: [(String, any ParsableCommand.Type)] = [
            ("list", ListResources<Kind>.self), ("get", GetResource<Kind>.self), ("create", CreateResource<Kind>.self),
            ("update", UpdateResource<Kind>.self), ("delete", DeleteResource<Kind>.self), ("stop", StopCluster.self),
            ("start", StartCluster.self),
        ]
        return CommandConfiguration(
            commandName: Kind.name, abstract: "List\(Kind.verbs.count > 1 ? ", show and change" : "") \(Kind.name.replacingOccurrences(of: "-", with: " ")).",
            subcommands: all.filter { Kind.verbs.contains($0.0) }.map(\.1))
    }
}

struct ListResources<Kind: ResourceKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: "list", abstract: "List every one.") }
    @OptionGroup var client: ClientOptions
    @Option(help: "Only those of this source (events: a cluster, user, ... name).")
    var source: String?

    func run() async throws {
        try await runClient {
            var query: [(String, String)] = []
            if let source { query.append(("sourceName", source)) }
            let items = try await client.api().all("/v1/\(Kind.name)", key: Kind.listKey, query: query)
            if client.output == .json {
                printJSON(items)
            } else {
                print(Table.render(items, columns: Kind.columns))
            }
        }
    }
}

/// Fetches one resource by name.
func fetch<Kind: ResourceKind>(_ kind: Kind.Type, _ name: String, _ api: MemoryPlaneAPI) async throws -> [String: Any] {
    if Kind.hasGet {
        return try await api.json(.GET, "/v1/\(Kind.name)/\(name)") as? [String: Any] ?? [:]
    }
    let page = try await api.json(.GET, "/v1/\(Kind.name)", query: [("name", name)]) as? [String: Any] ?? [:]
    guard let item = (page[Kind.listKey] as? [[String: Any]])?.first else {
        throw CLIError.api(status: 404, code: "NotFound", message: "No \(Kind.name) named '\(name)'.")
    }
    return item
}

struct GetResource<Kind: ResourceKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: "get", abstract: "Show one, by name.") }
    @OptionGroup var client: ClientOptions
    @Argument(help: "Its name.") var name: String

    func run() async throws {
        try await runClient {
            let item = try await fetch(Kind.self, name, client.api())
            if client.output == .json { printJSON(item) } else { print(Table.fields(item)) }
        }
    }
}

/// A request body from `--set field=value` (values read as JSON when they are JSON) and `--json`.
struct BodyOptions: ParsableArguments {
    @Option(name: .customLong("set"), help: "A field of the REST body, FIELD=VALUE (repeatable); VALUE is read as JSON when it is (2, true, [\"a\"]).")
    var fields: [String] = []

    @Option(help: "The whole REST body as a JSON object (fields from --set are added to it).")
    var json: String?

    func body(name: String?) throws -> [UInt8] {
        var object: [String: Any] = [:]
        if let json {
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
                throw CLIError.usage("--json must be a JSON object; got \(json).")
            }
            object = parsed
        }
        if let name { object["name"] = name }
        for field in fields {
            guard let equals = field.firstIndex(of: "="), equals != field.startIndex else {
                throw CLIError.usage("--set takes FIELD=VALUE; got '\(field)'.")
            }
            let key = String(field[..<equals]), raw = String(field[field.index(after: equals)...])
            object[key] = (try? JSONSerialization.jsonObject(with: Data(raw.utf8), options: [.fragmentsAllowed])) ?? raw
        }
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }
}

struct WaitOptions: ParsableArguments {
    @Flag(help: "Wait until it settles (clusters: available; deletions: gone).")
    var wait = false

    @Option(help: "Seconds to wait at most.")
    var timeout = 1800
}

/// Polls until the resource reaches a settled status, or is gone when `gone`.
func waitFor<Kind: ResourceKind>(_ kind: Kind.Type, _ name: String, gone: Bool, _ api: MemoryPlaneAPI, timeout: Int) async throws {
    guard gone || !Kind.settled.isEmpty else { return }
    let deadline = Date().addingTimeInterval(TimeInterval(timeout))
    var last = ""
    let started = Date()
    while true {
        let status: String
        do {
            status = try await fetch(Kind.self, name, api)["status"] as? String ?? ""
        } catch CLIError.api(404, _, _) {
            if gone { return }
            throw CLIError.failed("\(name) disappeared while waiting for it to be \(Kind.settled.sorted().joined(separator: "/")).")
        }
        if status != last {
            print("\(ProgressDisplay.timestamp()) \(Kind.name) \(name): \(status) (\(Int(Date().timeIntervalSince(started))) s)")
            fflush(nil)
            last = status
        }
        if !gone && Kind.settled.contains(status) { return }
        guard Date() < deadline else {
            throw CLIError.timeout(
                "Timed out after \(timeout) s waiting for \(Kind.name) \(name) to be \(gone ? "deleted" : Kind.settled.sorted().joined(separator: "/")); it is \(status).")
        }
        try await Task.sleep(for: .milliseconds(500))
    }
}

struct CreateResource<Kind: ResourceKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "create", abstract: "Create one from REST fields, e.g. `clusters create demo --set nodeType=db.t4g.small --set aclName=open-access --set tlsEnabled=false --wait`.")
    }
    @OptionGroup var client: ClientOptions
    @OptionGroup var body: BodyOptions
    @OptionGroup var waiting: WaitOptions
    @Argument(help: "Its name (or give it in --json / --set name=...).") var name: String?

    func run() async throws {
        try await runClient {
            let api = try client.api()
            let payload = try body.body(name: name)
            let created = try await api.json(.POST, "/v1/\(Kind.name)", body: payload) as? [String: Any] ?? [:]
            let createdName = created["name"] as? String ?? name ?? ""
            if waiting.wait { try await waitFor(Kind.self, createdName, gone: false, api, timeout: waiting.timeout) }
            let final = waiting.wait ? try await fetch(Kind.self, createdName, api) : created
            if client.output == .json { printJSON(final) } else { print(Table.fields(final)) }
        }
    }
}

struct UpdateResource<Kind: ResourceKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "update", abstract: "Change one with REST fields, e.g. `clusters update demo --set numShards=3 --wait`.")
    }
    @OptionGroup var client: ClientOptions
    @OptionGroup var body: BodyOptions
    @OptionGroup var waiting: WaitOptions
    @Argument(help: "Its name.") var name: String

    func run() async throws {
        try await runClient {
            let api = try client.api()
            let updated = try await api.json(.PATCH, "/v1/\(Kind.name)/\(name)", body: body.body(name: nil)) as? [String: Any] ?? [:]
            if waiting.wait { try await waitFor(Kind.self, name, gone: false, api, timeout: waiting.timeout) }
            let final = waiting.wait ? try await fetch(Kind.self, name, api) : updated
            if client.output == .json { printJSON(final) } else { print(Table.fields(final)) }
        }
    }
}

struct DeleteResource<Kind: ResourceKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: "delete", abstract: "Delete one, by name.") }
    @OptionGroup var client: ClientOptions
    @OptionGroup var waiting: WaitOptions
    @Argument(help: "Its name.") var name: String

    func run() async throws {
        try await runClient {
            let api = try client.api()
            try await api.call(.DELETE, "/v1/\(Kind.name)/\(name)")
            if waiting.wait { try await waitFor(Kind.self, name, gone: true, api, timeout: waiting.timeout) }
            print(waiting.wait ? "\(Kind.name) \(name) deleted." : "\(Kind.name) \(name) is being deleted.")
        }
    }
}

/// `clusters stop NAME`: every node persists and stops, keeping its data (MemoryPlane's own).
struct StopCluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop every node of a cluster, keeping its data, ports and files; --wait until stopped.")
    @OptionGroup var client: ClientOptions
    @OptionGroup var waiting: WaitOptions
    @Argument(help: "The cluster's name.") var name: String

    func run() async throws {
        try await changePower(name, verb: "stop", settled: "stopped", under: "stopping", client: client, waiting: waiting)
    }
}

/// `clusters start NAME`: a stopped cluster comes back from its own data.
struct StartCluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a stopped cluster; --wait until available.")
    @OptionGroup var client: ClientOptions
    @OptionGroup var waiting: WaitOptions
    @Argument(help: "The cluster's name.") var name: String

    func run() async throws {
        try await changePower(name, verb: "start", settled: "available", under: "starting", client: client, waiting: waiting)
    }
}

/// Stops or starts a cluster, and with `--wait` follows it until it has `settled`.
func changePower(_ name: String, verb: String, settled: String, under: String, client: ClientOptions, waiting: WaitOptions) async throws {
    try await runClient {
        let api = try client.api()
        _ = try await api.json(.POST, "/v1/clusters/\(name)/\(verb)")
        if waiting.wait { try await waitForStatus(name, settled, api, timeout: waiting.timeout) }
        print(waiting.wait ? "clusters \(name) \(settled)." : "clusters \(name) is \(under).")
    }
}

/// Polls a cluster until it has `status`.
func waitForStatus(_ name: String, _ status: String, _ api: MemoryPlaneAPI, timeout: Int) async throws {
    let deadline = Date().addingTimeInterval(TimeInterval(timeout))
    while (try await fetch(ClusterKind.self, name, api)["status"] as? String) != status {
        guard Date() < deadline else { throw CLIError.timeout("Timed out after \(timeout) s waiting for clusters \(name) to be \(status).") }
        try await Task.sleep(for: .milliseconds(200))
    }
}

/// Plain-text tables for people.
enum Table {
    static func cell(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return "-"
        case let text as String: return text
        case let number as NSNumber:
            // JSON booleans arrive as NSNumber with the C type of a char.
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return number.stringValue
        case let list as [Any]:
            if list.allSatisfy({ $0 is [String: Any] }) { return String(list.count) }
            return list.map { cell($0) }.joined(separator: ",")
        case let object as [String: Any]:
            if let port = object["port"] { return "\(object["address"] as? String ?? "-"):\(cell(port))" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        default: return "\(value!)"
        }
    }

    static func value(_ item: [String: Any], _ path: String) -> Any? {
        var current: Any? = item
        for part in path.split(separator: ".") {
            if let list = current as? [Any], let index = Int(part) {
                current = index < list.count ? list[index] : nil
            } else {
                current = (current as? [String: Any])?[String(part)]
            }
        }
        return current
    }

    static func render(_ items: [[String: Any]], columns: [(String, String)]) -> String {
        let rows = items.map { item in columns.map { cell(value(item, $0.1)) } }
        let widths = columns.indices.map { index in ([columns[index].0] + rows.map { $0[index] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return ([line(columns.map(\.0))] + rows.map(line)).joined(separator: "\n")
    }

    static func fields(_ item: [String: Any]) -> String {
        let width = item.keys.map(\.count).max() ?? 0
        return item.keys.sorted().map { "\($0.padding(toLength: width, withPad: " ", startingAt: 0))  \(cell(item[$0]))" }.joined(separator: "\n")
    }
}
