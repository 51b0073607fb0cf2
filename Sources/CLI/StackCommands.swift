import API
import ArgumentParser
import Control
import Foundation
import Model
import NIOHTTP1
import StackFormat

/// The stack file a command works on.
struct StackFileOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .long], help: "The stack document, YAML or JSON ('-' for standard input).")
    var file: String

    func text() throws -> String {
        if file == "-" {
            return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        guard let data = FileManager.default.contents(atPath: file) else { throw CLIError.usage("Cannot read \(file).") }
        return String(decoding: data, as: UTF8.self)
    }

    /// The document with `${env:...}` filled in, checked here against what the server has, so
    /// every problem is reported with this file's line and column.
    func document(_ api: MemoryPlaneAPI) async throws -> StackDocument {
        let text = try text()
        let existing = ExistingResources(
            parameterGroups: Set(try await api.all("/v1/parameter-groups", key: "parameterGroups").compactMap { $0["name"] as? String }),
            subnetGroups: Set(try await api.all("/v1/subnet-groups", key: "subnetGroups").compactMap { $0["name"] as? String }),
            users: Set(try await api.all("/v1/users", key: "users").compactMap { $0["name"] as? String }),
            acls: Set(try await api.all("/v1/acls", key: "acls").compactMap { $0["name"] as? String }))
        do {
            return try StackDocumentParser.parse(text, environment: ProcessInfo.processInfo.environment, existing: existing)
        } catch {
            throw CLIError.usage(error.problems.map { problem in
                let place = problem.line.map { "\(file):\($0):\(problem.column ?? 1): " } ?? "\(file): "
                return place + (problem.path.isEmpty ? "" : problem.path + ": ") + problem.message
            }.joined(separator: "\n"))
        }
    }

    func stackName() throws -> String {
        do {
            return try StackDocumentParser.stackName(text())
        } catch let error as StackDocumentError {
            throw CLIError.usage("\(file): \(error.description)")
        }
    }
}

/// Runs a client command, printing a failure the way scripts expect: one message on standard
/// error and exit status 1.
func runClient(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CLIError {
        printError("error: \(error.description)")
        throw ExitCode.failure
    }
}

func planRequest(_ api: MemoryPlaneAPI, _ document: StackDocument) async throws -> RESTPlan {
    let body = Array(try JSONEncoder().encode(document))
    return try await api.decode(RESTPlan.self, .PUT, "/v1/stacks/\(document.stack)", query: [("dryRun", "true")], body: body)
}

func printJSON(_ value: Any) {
    if let data = try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) {
        print(String(decoding: data, as: UTF8.self))
    }
}

func printJSON<T: Encodable>(encodable value: T) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    if let data = try? encoder.encode(value) { print(String(decoding: data, as: UTF8.self)) }
}

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Show what applying a stack document would change.",
        discussion: "Exit status: 0 when it succeeds; with --detailed-exitcode, 0 no changes, 2 changes, 1 error.")

    @OptionGroup var stackFile: StackFileOptions
    @OptionGroup var client: ClientOptions

    @Flag(help: "Exit 2 when there are changes, 0 when there are none (1 on error).")
    var detailedExitcode = false

    func run() async throws {
        var changes = false
        try await runClient {
            let api = try client.api()
            let plan = try await planRequest(api, try await stackFile.document(api))
            if client.output == .json {
                printJSON(encodable: plan)
            } else {
                print(StackRendering.plan(plan))
            }
            changes = plan.hasChanges
        }
        if detailedExitcode && changes { throw ExitCode(2) }
    }
}

/// Asks on a terminal; refuses to go on unattended without `--auto-approve`.
func confirm(_ question: String, autoApprove: Bool) throws {
    guard !autoApprove else { return }
    guard isatty(STDIN_FILENO) == 1 else {
        throw CLIError.usage("Not on a terminal: nothing to ask for approval. Pass --auto-approve to go ahead unattended.")
    }
    print("\(question) Only 'yes' will be accepted: ", terminator: "")
    fflush(nil)
    guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else { throw CLIError.failed("Cancelled.") }
}

/// Polls a stack until its run ends, showing progress; nil once the stack is gone (destroyed).
func follow(_ api: MemoryPlaneAPI, stack: String, running: String, timeout: Int) async throws -> RESTStack? {
    let display = ProgressDisplay(terminal: outputIsTerminal)
    let deadline = Date().addingTimeInterval(TimeInterval(timeout))
    while true {
        let reply: RESTStack
        do {
            reply = try await api.decode(RESTStack.self, .GET, "/v1/stacks/\(stack)")
        } catch CLIError.api(404, _, _) {
            return nil
        }
        display.show(reply)
        guard reply.status == running else { return reply }
        guard Date() < deadline else {
            let waiting = (reply.lastRun?.steps ?? []).filter { $0.state == "in-progress" || $0.state == "pending" }.map { "\($0.type) \($0.name)" }
            throw CLIError.timeout(
                "Timed out after \(timeout) s waiting for stack \(stack) to finish (\(running)); still waiting for: \(waiting.joined(separator: ", ")). The run goes on in the server: see `memoryplane stacks get \(stack)`.")
        }
        try await Task.sleep(for: .milliseconds(200))
    }
}

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Create, update and delete resources until they match the stack document; waits, shows progress, prints outputs.",
        discussion: "Exit status: 0 applied, 1 error (the failing resource and why are printed).")

    @OptionGroup var stackFile: StackFileOptions
    @OptionGroup var client: ClientOptions

    @Flag(help: "Apply without asking.")
    var autoApprove = false

    @Option(help: "Seconds to wait for the apply to finish.")
    var timeout = 1800

    func run() async throws {
        try await runClient {
            let api = try client.api()
            let document = try await stackFile.document(api)
            let plan = try await planRequest(api, document)
            if client.output == .table { print(StackRendering.plan(plan)) }
            if plan.hasChanges { try confirm("Apply these changes to stack \(document.stack)?", autoApprove: autoApprove) }
            let body = Array(try JSONEncoder().encode(document))
            _ = try await api.call(.PUT, "/v1/stacks/\(document.stack)", body: body)
            guard let final = try await follow(api, stack: document.stack, running: "applying", timeout: timeout) else {
                throw CLIError.failed("Stack \(document.stack) disappeared while it was applied.")
            }
            // The run's new secrets are in this last read only: it is what is printed.
            if client.output == .json { printJSON(encodable: final) }
            guard final.status == "applied" else {
                throw CLIError.failed("Apply of stack \(document.stack) failed: \(final.lastRun?.error ?? final.status)")
            }
            if client.output == .table {
                print("Apply complete.")
                if !final.outputs.isEmpty { print("\nOutputs:\n" + StackRendering.outputs(final.outputs)) }
                if let keys = final.newAccessKeys, !keys.isEmpty {
                    print("\nNew access keys (the secrets are shown this once):")
                    for key in keys { print("  \(key.name): \(key.accessKeyId) \(key.secretAccessKey)") }
                }
            }
        }
    }
}

struct DestroyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "destroy", abstract: "Delete every resource a stack owns, dependents first, then the stack.",
        discussion: "Exit status: 0 destroyed (or nothing to destroy), 1 error.")

    @Option(name: [.customShort("f"), .long], help: "The stack document (only its stack name is read).")
    var file: String?

    @Option(help: "The stack's name, instead of a file.")
    var stack: String?

    @OptionGroup var client: ClientOptions

    @Flag(help: "Destroy without asking.")
    var autoApprove = false

    @Option(help: "Seconds to wait for the destroy to finish.")
    var timeout = 1800

    func validate() throws {
        guard (file == nil) != (stack == nil) else { throw ValidationError("Give the stack as -f FILE or --stack NAME (one of them).") }
    }

    func run() async throws {
        try await runClient {
            let api = try client.api()
            let name = try stack?.lowercased() ?? StackFileOptions(file: file ?? "-").stackName()
            let current: RESTStack
            do {
                current = try await api.decode(RESTStack.self, .GET, "/v1/stacks/\(name)")
            } catch CLIError.api(404, _, _) {
                print("Stack \(name) does not exist: nothing to destroy.")
                return
            }
            let owned = current.resources.filter { $0.status != nil }
            if client.output == .table {
                print("Stack \(name) — will be deleted:")
                for resource in owned { print("  - \(resource.type) \(resource.name)") }
            }
            try confirm("Destroy stack \(name) and its \(owned.count) resource\(owned.count == 1 ? "" : "s")?", autoApprove: autoApprove)
            _ = try await api.call(.DELETE, "/v1/stacks/\(name)")
            if let final = try await follow(api, stack: name, running: "destroying", timeout: timeout) {
                throw CLIError.failed("Destroy of stack \(name) failed: \(final.lastRun?.error ?? final.status)")
            }
            if client.output == .table { print("Destroy complete: stack \(name) and its resources are gone.") }
        }
    }
}

extension StackFileOptions {
    init(file: String) {
        self.init()
        self.file = file
    }
}

struct OutputCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "output", abstract: "Print a stack's outputs, or one of them (e.g. CLUSTER.endpoint) for a script.")

    @OptionGroup var stackFile: StackFileOptions
    @OptionGroup var client: ClientOptions

    @Argument(help: "One output, e.g. ci-cache.endpoint; all when left out.")
    var name: String?

    func run() async throws {
        try await runClient {
            let api = try client.api()
            let stack = try stackFile.stackName()
            let reply: RESTStack
            do {
                reply = try await api.decode(RESTStack.self, .GET, "/v1/stacks/\(stack)")
            } catch CLIError.api(404, _, _) {
                throw CLIError.failed("Stack \(stack) does not exist; run `memoryplane apply -f \(stackFile.file)` first.")
            }
            if let name {
                guard let value = reply.outputs[name] else {
                    throw CLIError.failed("Stack \(stack) has no output '\(name)'; it has: \(reply.outputs.keys.sorted().joined(separator: ", ")).")
                }
                print(value)
            } else if client.output == .json {
                printJSON(reply.outputs)
            } else {
                print(StackRendering.outputs(reply.outputs))
            }
        }
    }
}
