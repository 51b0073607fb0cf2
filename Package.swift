// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "MemoryPlane",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "memoryplane", targets: ["memoryplane"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        /// Pure domain: resources, validation, slot math, catalogs, the error type.
        .target(name: "Model"),
        /// Stack documents (YAML or JSON) read into the model, every problem with its line and column.
        .target(
            name: "StackFormat",
            dependencies: ["Model", .product(name: "Yams", package: "Yams")]
        ),
        /// The schema as numbered SQL files, compiled into the binary.
        .target(
            name: "Migrations",
            path: "migrations",
            resources: [
                .embedInCode("0001_initial.sql"),
                .embedInCode("0002_cluster_windows.sql"),
                .embedInCode("0003_parameter_groups.sql"),
                .embedInCode("0004_subnet_groups.sql"),
                .embedInCode("0005_users_acls.sql"),
                .embedInCode("0006_orphan_tags.sql"),
                .embedInCode("0007_security_groups.sql"),
                .embedInCode("0008_topology.sql"),
                .embedInCode("0009_snapshots.sql"),
                .embedInCode("0010_node_memory.sql"),
                .embedInCode("0011_node_config.sql"),
                .embedInCode("0012_service_updates.sql"),
                .embedInCode("0013_stacks.sql"),
                .embedInCode("0014_audit.sql"),
                .embedInCode("0015_alarms.sql"),
                .embedInCode("0016_lists_as_json.sql"),
                .embedInCode("0017_applied_revisions_as_columns.sql"),
                .embedInCode("0018_access_keys.sql"),
                .embedInCode("0019_deletion_protection.sql"),
                .embedInCode("0020_snapshot_before_update.sql"),
                .embedInCode("0021_reserved_nodes.sql"),
            ]
        ),
        /// The bundled price list (AWS's offer-file format, illustrative rates), compiled in.
        .target(
            name: "PriceLists",
            path: "pricing",
            exclude: [],
            resources: [.embedInCode("memorydb-sample.json")]
        ),
        /// SQLite persistence of desired and observed state.
        .target(
            name: "Store",
            dependencies: [
                "Model", "Migrations",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        /// The ports between the control plane and the data plane: what the control plane asks of
        /// nodes, metrics, warm nodes, snapshot files, the access-string normaliser and the clock,
        /// with the values they speak. No NIO: Control sees the data plane only through these.
        .target(
            name: "Ports",
            dependencies: ["Model", .product(name: "Crypto", package: "swift-crypto")]
        ),
        /// glibc's posix_spawn extensions (close inherited descriptors, change directory).
        .target(name: "CSpawn"),
        .target(name: "CForwarder"),
        /// The data plane: RESP client, node processes, cluster operations.
        .target(
            name: "Engine",
            dependencies: [
                "Model", "Ports", "CSpawn", "CForwarder",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        /// The service layer: validates, records desired state and its event, wakes the
        /// reconciler; with the background loops services read from (metrics, snapshots, the
        /// warm pool, alarms). The only place that mutates state besides the reconciler.
        .target(
            name: "Control",
            dependencies: [
                "Model", "Store", "Ports",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        /// The reconcile loops: observe the data plane, plan (pure), act through step executors,
        /// each against the narrow ports it uses. Reads desired state the services recorded.
        .target(
            name: "Reconciler",
            dependencies: [
                "Model", "Store", "Ports", "Control",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        /// The control plane as it runs: ControlPlane wires every service, the reconciler and the
        /// background loops once, from a data plane and its capabilities given by the caller.
        .target(
            name: "Runtime",
            dependencies: [
                "Model", "Store", "Ports", "Control", "Reconciler", "PriceLists",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        /// The web console's page, styles and script, embedded in the binary.
        .target(
            name: "ConsoleAssets",
            resources: [.embedInCode("index.html"), .embedInCode("console.js"), .embedInCode("console.css")]
        ),
        /// HTTP doors over the service layer.
        .target(
            name: "API",
            dependencies: [
                "Model", "Control", "Runtime", "Store", "Ports", "StackFormat", "ConsoleAssets",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        /// The client commands (resources and stacks over REST), parsed and tested apart from the server.
        .target(
            name: "CLI",
            dependencies: [
                "API", "Control", "Model", "StackFormat",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        /// The executable: `serve` and the client subcommands; the composition root.
        .executableTarget(
            name: "memoryplane",
            dependencies: [
                "API", "CLI", "Control", "Runtime", "Store", "Engine", "Ports", "Model", "StackFormat",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        /// The connection-burst benchmark's baseline: Hummingbird's hello world, defaults only.
        .executableTarget(
            name: "bench-hello",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Sources/BenchHello"
        ),
        .testTarget(name: "ModelTests", dependencies: ["Model"]),
        .testTarget(name: "CLITests", dependencies: ["CLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "StackFormatTests", dependencies: ["StackFormat", "Model"]),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "Engine", "Ports", "Model",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Model", "Migrations", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "ControlTests", dependencies: ["Control", "Reconciler", "Runtime", "Store", "Ports", "Model", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Control", "Reconciler", "Runtime", "Store", "Engine", "Ports", "Model",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "APITests",
            dependencies: [
                "API", "Control", "Runtime", "Store", "Ports", "Model", "PriceLists",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

/// Imports the compiler checks: a member is visible only from a module the file imports, and
/// every existential is spelled `any`.
for target in package.targets where target.type != .plugin {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility"), .enableUpcomingFeature("ExistentialAny")]
}
