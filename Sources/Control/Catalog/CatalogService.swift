import Model
import Store
import Ports

/// Read access to the engine versions this server can run.
public struct CatalogService: Sendable {
    private let store: Store
    public let configuration: ControlConfiguration

    public init(store: Store, configuration: ControlConfiguration) {
        self.store = store
        self.configuration = configuration
    }

    // MARK: Engine versions

    /// What is really installed: the `redis-server` this server runs.
    public func describeEngineVersions(
        engine: String?, engineVersion: String?, family: String?, maxResults: Int?, nextToken: String?
    ) throws -> (items: [EngineVersionView], nextToken: String?) {
        let installed = configuration.engineVersion
        var versions = [
            EngineVersionView(
                engine: "redis", engineVersion: installed.engineVersion, enginePatchVersion: installed.patchVersion,
                parameterGroupFamily: installed.parameterGroupFamily)
        ]
        if let engine { versions = versions.filter { $0.engine == engine.lowercased() } }
        if let engineVersion { versions = versions.filter { $0.engineVersion == engineVersion || $0.enginePatchVersion == engineVersion } }
        if let family { versions = versions.filter { $0.parameterGroupFamily == family } }
        return try Pagination.page(versions, key: \.engineVersion, maxResults: maxResults, nextToken: nextToken)
    }
}
