import ArgumentParser
import Foundation
import NIOHTTP1

enum AccessKeyKind: ResourceKind {
    static let name = "access-keys"
    static let listKey = "accessKeys"
    static let columns = [
        ("ACCESS KEY ID", "accessKeyId"), ("NAME", "name"), ("STATUS", "status"), ("TEMPLATE", "template"), ("LAST USED", "lastUsedAt"),
    ]
    static let hasGet = true
}

/// `memoryplane access-keys list|get|create|update|delete|rotate`: keys and their policies.
struct AccessKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access-keys", abstract: "List, create, rotate, deactivate and delete access keys and their IAM policies.",
        subcommands: [
            ListResources<AccessKeyKind>.self, GetResource<AccessKeyKind>.self, CreateAccessKey.self, UpdateAccessKey.self, RotateAccessKey.self,
            DeleteAccessKey.self,
        ])
}

/// The policy options create and update share: a template, or a document's file.
struct PolicyOptions: ParsableArguments {
    @Option(help: "A built-in template: admin, read-only or ci (ci needs --prefix or --tag).")
    var policy: String?

    @Option(help: "A file holding an IAM policy document (JSON); a refusal names its line.")
    var policyFile: String?

    @Option(help: "With --policy ci: the name prefix the key may change (e.g. ci-).")
    var prefix: String?

    @Option(help: "With --policy ci: KEY=VALUE, the tag whose carriers the key may change.")
    var tag: String?

    var given: Bool { policy != nil || policyFile != nil || prefix != nil || tag != nil }

    /// The body's policy members. The document goes as text, so the server's line numbers are the file's.
    func fields() throws -> [String: Any] {
        var fields: [String: Any] = [:]
        switch (policy, policyFile) {
        case (let name?, nil): fields["policy"] = name
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError.usage("cannot read --policy-file \(path).") }
            fields["policy"] = String(decoding: data, as: UTF8.self)
        case (nil, nil): break
        default: throw CLIError.usage("give --policy or --policy-file, not both.")
        }
        if let prefix { fields["prefix"] = prefix }
        if let tag {
            guard let equals = tag.firstIndex(of: "="), equals != tag.startIndex else { throw CLIError.usage("--tag takes KEY=VALUE; got '\(tag)'.") }
            fields["tag"] = ["key": String(tag[..<equals]), "value": String(tag[tag.index(after: equals)...])]
        }
        return fields
    }
}

func show(_ item: [String: Any], _ client: ClientOptions) {
    if client.output == .json { printJSON(item) } else { print(Table.fields(item)) }
}

struct CreateAccessKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "A key for NAME, e.g. `access-keys create dashboards --policy read-only` or `access-keys create ci-7 --policy ci --prefix ci-`; the secret is shown this once.")
    @OptionGroup var client: ClientOptions
    @OptionGroup var policy: PolicyOptions
    @Argument(help: "The key's name (its principal).") var name: String

    func run() async throws {
        try await runClient {
            guard policy.policy != nil || policy.policyFile != nil else { throw CLIError.usage("give --policy TEMPLATE or --policy-file PATH.") }
            var body = try policy.fields()
            body["name"] = name
            let created = try await client.api().json(.POST, "/v1/access-keys", body: Array(try JSONSerialization.data(withJSONObject: body)))
            show(created as? [String: Any] ?? [:], client)
        }
    }
}

struct UpdateAccessKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Deactivate (--status Inactive), activate, or give a key a new policy.")
    @OptionGroup var client: ClientOptions
    @OptionGroup var policy: PolicyOptions
    @Option(help: "Active or Inactive: an inactive key is refused from its next request.") var status: String?
    @Argument(help: "The access key id.") var accessKeyId: String

    func run() async throws {
        try await runClient {
            var body = try policy.fields()
            if let status { body["status"] = status }
            guard !body.isEmpty else { throw CLIError.usage("give --status, --policy or --policy-file.") }
            let updated = try await client.api().json(
                .PATCH, "/v1/access-keys/\(accessKeyId)", body: Array(try JSONSerialization.data(withJSONObject: body)))
            show(updated as? [String: Any] ?? [:], client)
        }
    }
}

struct RotateAccessKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate", abstract: "A second key with the same name and policy; delete the old one once clients use the new.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The access key id to rotate.") var accessKeyId: String

    func run() async throws {
        try await runClient {
            show(try await client.api().json(.POST, "/v1/access-keys/\(accessKeyId)/rotate") as? [String: Any] ?? [:], client)
        }
    }
}

struct DeleteAccessKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a key; the last active admin key cannot be.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The access key id.") var accessKeyId: String

    func run() async throws {
        try await runClient {
            try await client.api().call(.DELETE, "/v1/access-keys/\(accessKeyId)")
            print("access key \(accessKeyId) deleted.")
        }
    }
}
