import ArgumentParser
@testable import CLI
import Foundation
import Testing

/// The client commands' arguments, parsed as `memoryplane` parses them, with no server.
@Suite struct ArgumentParsingTests {
    /// The root command as the binary has it, minus `serve`.
    struct Root: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "memoryplane", subcommands: ClientCommands.all)
    }

    func body(_ command: some ParsableCommand) throws -> [String: Any] {
        let options: BodyOptions
        let name: String?
        switch command {
        case let create as CreateResource<ClusterKind>: (options, name) = (create.body, create.name)
        case let update as UpdateResource<ClusterKind>: (options, name) = (update.body, nil)
        default: throw CLIError.usage("not a command with a body: \(type(of: command))")
        }
        return try JSONSerialization.jsonObject(with: Data(options.body(name: name))) as? [String: Any] ?? [:]
    }

    @Test func createReadsSetValuesAsJSONWhenTheyAre() throws {
        let command = try Root.parseAsRoot([
            "clusters", "create", "demo", "--set", "nodeType=db.t4g.small", "--set", "numShards=3", "--set", "tlsEnabled=false",
            "--set", "description=a cache", "--wait", "--timeout", "60", "--endpoint-url", "http://127.0.0.1:9999",
        ])
        let create = try #require(command as? CreateResource<ClusterKind>)
        #expect(create.waiting.wait && create.waiting.timeout == 60)
        #expect(create.client.endpointUrl == "http://127.0.0.1:9999")
        let fields = try body(create)
        #expect(fields["name"] as? String == "demo")
        #expect(fields["numShards"] as? Int == 3)
        #expect(fields["tlsEnabled"] as? Bool == false)
        #expect(fields["description"] as? String == "a cache")
    }

    @Test func jsonAndSetCombineWithSetWinning() throws {
        let command = try Root.parseAsRoot(["clusters", "update", "demo", "--json", #"{"numShards":2,"description":"x"}"#, "--set", "numShards=4"])
        let fields = try body(try #require(command as? UpdateResource<ClusterKind>))
        #expect(fields["numShards"] as? Int == 4)
        #expect(fields["description"] as? String == "x")
        #expect(fields["name"] == nil)
    }

    @Test func malformedBodiesAreRefusedByName() throws {
        let bad = try #require(try Root.parseAsRoot(["clusters", "create", "demo", "--set", "=oops"]) as? CreateResource<ClusterKind>)
        #expect(throws: CLIError.self) { try bad.body.body(name: "demo") }
        let notObject = try #require(try Root.parseAsRoot(["clusters", "create", "--json", "[1]"]) as? CreateResource<ClusterKind>)
        #expect(throws: CLIError.self) { try notObject.body.body(name: nil) }
    }

    @Test func onlyTheVerbsAKindHasAreCommands() throws {
        #expect(throws: (any Error).self) { try Root.parseAsRoot(["events", "create", "x"]) }
        #expect(throws: (any Error).self) { try Root.parseAsRoot(["stacks", "delete", "x"]) }
        #expect(try Root.parseAsRoot(["events", "list", "--source", "demo"]) is ListResources<EventKind>)
        #expect(throws: (any Error).self) { try Root.parseAsRoot(["clusters", "delete"]) }
        #expect(throws: (any Error).self) { try Root.parseAsRoot(["clusters", "list", "--output", "yaml"]) }
    }

    @Test func accessKeysTakeATemplateOrADocumentFile() throws {
        let create = try #require(
            try Root.parseAsRoot(["access-keys", "create", "ci-7", "--policy", "ci", "--prefix", "ci-", "--tag", "team=ci"]) as? CreateAccessKey)
        let fields = try create.policy.fields()
        #expect(fields["policy"] as? String == "ci" && fields["prefix"] as? String == "ci-")
        #expect(fields["tag"] as? [String: String] == ["key": "team", "value": "ci"])
        let both = try #require(try Root.parseAsRoot(["access-keys", "create", "x", "--policy", "admin", "--policy-file", "/p.json"]) as? CreateAccessKey)
        #expect(throws: CLIError.self) { try both.policy.fields() }
        let badTag = try #require(try Root.parseAsRoot(["access-keys", "update", "AKMP1", "--tag", "novalue"]) as? UpdateAccessKey)
        #expect(throws: CLIError.self) { try badTag.policy.fields() }
        #expect(try Root.parseAsRoot(["access-keys", "rotate", "AKMP1"]) is RotateAccessKey)
        #expect(try Root.parseAsRoot(["access-keys", "list"]) is ListResources<AccessKeyKind>)
    }

    @Test func destroyWantsExactlyOneWayToNameTheStack() throws {
        #expect(throws: (any Error).self) { try Root.parseAsRoot(["destroy"]) }
        #expect(throws: (any Error).self) { try Root.parseAsRoot(["destroy", "-f", "stack.yaml", "--stack", "ci"]) }
        let destroy = try #require(try Root.parseAsRoot(["destroy", "--stack", "ci", "--auto-approve"]) as? DestroyCommand)
        #expect(destroy.stack == "ci" && destroy.autoApprove)
    }
}
