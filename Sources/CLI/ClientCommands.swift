import ArgumentParser

/// The client side of `memoryplane`: resource commands (`clusters list`, `users create`, ...) and
/// stacks (`plan`, `apply`, `destroy`, `output`), over the REST API. A library of its own, so its
/// argument parsing is tested without the server.
public enum ClientCommands {
    /// Every client subcommand, in the order `--help` lists them.
    public static let all: [any ParsableCommand.Type] = [
        PlanCommand.self, ApplyCommand.self, DestroyCommand.self, OutputCommand.self,
        ResourceCommand<ClusterKind>.self, ResourceCommand<ParameterGroupKind>.self, ResourceCommand<UserKind>.self,
        ResourceCommand<ACLKind>.self, ResourceCommand<SubnetGroupKind>.self, ResourceCommand<SnapshotKind>.self,
        ResourceCommand<EventKind>.self, ResourceCommand<StackKind>.self, AccessKeysCommand.self, ReservedNodesCommand.self,
        ResourceCommand<ReservedNodeOfferingKind>.self,
    ]
}
