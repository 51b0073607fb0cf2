import ArgumentParser
import Engine
import Logging

/// `memoryplane endpoint-proxy`: a cluster's endpoint, run as its own process by the control
/// plane so it outlives control-plane restarts. Not meant to be started by hand.
struct EndpointProxyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "endpoint-proxy",
        abstract: "Forward a cluster endpoint port to the first node that answers (started by serve)."
    )

    @Option(help: "Port to listen on (127.0.0.1).")
    var port: Int

    @Option(help: "File of host:port lines, one per node.")
    var backends: String

    func run() throws {
        let descriptorLimit = ResourceLimits.raiseDescriptorLimit()
        try EndpointProxy(
            port: port, backendsFile: backends, logger: Logger(label: "memoryplane.endpoint"),
            maxConnections: max(16, min(10_000, (descriptorLimit - 64) / 2))
        ).run()
    }
}
