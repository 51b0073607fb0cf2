import ArgumentParser

/// `memoryplane`: the server and its helpers, in one binary.
@main
struct MemoryPlaneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memoryplane",
        abstract: "A local MemoryDB: a control plane that runs real Redis clusters.",
        subcommands: [ServeCommand.self, EndpointProxyCommand.self, HelloBaselineCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
