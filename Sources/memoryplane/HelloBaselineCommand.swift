import ArgumentParser
import Hummingbird

/// `memoryplane bench-hello`: Hummingbird's hello-world app with the framework's defaults, the
/// baseline `make bench` measures the API's connection bursts against. Hidden: benchmarks only.
struct HelloBaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-hello",
        abstract: "A hello-world Hummingbird server with default settings (benchmark baseline).",
        shouldDisplay: false
    )

    @Option(help: "Port to listen on (127.0.0.1).")
    var port: Int

    func run() async throws {
        let router = Router()
        router.get("/health") { _, _ in "ok" }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }
}
