import ArgumentParser

/// `memoryplane`: the server and its helpers, in one binary.
@main
struct MemoryPlaneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memoryplane",
        abstract: "A local MemoryDB: a control plane that runs real Redis clusters.",
        subcommands: [
            ServeCommand.self, PlanCommand.self, ApplyCommand.self, DestroyCommand.self, OutputCommand.self,
            ResourceCommand<ClusterKind>.self, ResourceCommand<ParameterGroupKind>.self, ResourceCommand<UserKind>.self,
            ResourceCommand<ACLKind>.self, ResourceCommand<SubnetGroupKind>.self, ResourceCommand<SnapshotKind>.self,
            ResourceCommand<EventKind>.self, ResourceCommand<StackKind>.self, EndpointProxyCommand.self,
        ],
        defaultSubcommand: ServeCommand.self
    )
}
