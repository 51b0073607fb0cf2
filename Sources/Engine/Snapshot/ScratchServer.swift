import Foundation
import Ports

#if canImport(Glibc)
import Glibc
#endif

/// A short-lived `redis-server` on a Unix socket only (no TCP port, so it takes nothing from the
/// node port range), in a private directory that is removed with it: for checking access
/// strings, reading what an RDB file holds, and moving its keys into a cluster.
public final class ScratchServer: Sendable {
    public let directory: String
    public let address: NodeAddress
    let pid: Int32

    /// Starts the server with `arguments` added to its command line and waits until it answers
    /// (an RDB given with `--dbfilename` is loaded by then). Throws when it exits or does not
    /// answer within `timeout`; the log's last lines say why.
    /// `moving` files (source path → name) are moved into its directory first: an RDB it loads
    /// (`--dbfilename <name>`), a certificate.
    public static func start(
        enginePath: String, scratchDirectory: String, arguments: [String] = [], moving: [String: String] = [:], timeout: Duration = .seconds(60)
    ) async throws -> ScratchServer {
        // A socket path may hold at most 107 bytes; a deep data directory falls back to /tmp.
        var base = scratchDirectory
        if base.utf8.count > 80 { base = "/tmp/memoryplane-\(getuid())" }
        let directory = "\(base)/\(UUID().uuidString.prefix(8).lowercased())"
        try LocalDataPlane.makePrivateDirectory(base)
        try LocalDataPlane.makePrivateDirectory(directory)
        let socket = "\(directory)/s"
        let pid: Int32
        do {
            for (source, name) in moving {
                try FileManager.default.moveItem(atPath: source, toPath: "\(directory)/\(name)")
            }
            pid = try ProcessControl.spawnDetached(
                [enginePath, "--port", "0", "--unixsocket", socket, "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                 "--dir", directory, "--logfile", "\(directory)/redis.log", "--daemonize", "no"] + arguments,
                workingDirectory: directory)
        } catch {
            // Cleaning up after a failed start; the start's error is the one thrown.
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        let server = ScratchServer(directory: directory, address: NodeAddress(unixSocket: socket), pid: pid)
        do {
            try await server.waitUntilReady(timeout: timeout)
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    init(directory: String, address: NodeAddress, pid: Int32) {
        self.directory = directory
        self.address = address
        self.pid = pid
    }

    private func waitUntilReady(timeout: Duration) async throws {
        let client = RedisClient(timeout: .seconds(2))
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            // Not knowing (out of descriptors) counts as alive: the deadline ends the wait.
            if (try? ProcessControl.isAlive(pid)) == false {
                throw ProcessError("redis-server exited at start: \(logTail())")
            }
            // Not listening yet: asked again until the deadline, when the log says why.
            if let reply = try? await client.send([["PING"]], to: address, as: nil).first, reply.string == "PONG" { return }
            guard clock.now < deadline else { throw ProcessError("redis-server did not answer within \(timeout): \(logTail())") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The last lines of the server's log, for error messages.
    public func logTail(lines: Int = 3) -> String {
        let text = (try? String(contentsOfFile: "\(directory)/redis.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: " | ")
    }

    /// Kills the process (nothing in it is worth saving) and removes its directory.
    public func stop() {
        ProcessControl.killAndReap(pid)
        // A scratch directory left behind is removed with the scratch directory at the next start.
        try? FileManager.default.removeItem(atPath: directory)
    }
}
