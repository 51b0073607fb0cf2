import ArgumentParser
import CLI

/// `memoryplane`: the server and its helpers, in one binary.
@main
struct MemoryPlaneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memoryplane",
        abstract: "A local MemoryDB: a control plane that runs real Redis clusters.",
        subcommands: [ServeCommand.self] + ClientCommands.all + [EndpointProxyCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
