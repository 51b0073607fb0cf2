import Foundation
import Model
import Ports

// Snapshots: RDB files out of running nodes, what an RDB holds, and RDB files into a cluster.

extension LocalDataPlane {
    public func saveRDB(_ node: NodeSpec) async throws -> String {
        let client = try client(for: node.address)
        func persistence() async throws -> [String: String] {
            NodeObservation.infoFields(try await client.command("INFO", "persistence", to: node.address, as: node.admin).text())
        }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(600)
        // A save already running (from an earlier, interrupted attempt) is waited for first.
        var before = try await persistence()
        while before["rdb_bgsave_in_progress"] == "1" {
            guard clock.now < deadline else { throw ProcessError("node \(node.name): a background save has run for 10 minutes") }
            try await Task.sleep(for: .milliseconds(10))
            before = try await persistence()
        }
        let saves = Int(before["rdb_saves"] ?? "") ?? 0
        let reply = try await client.send([["BGSAVE"]], to: node.address, as: node.admin)[0]
        if case .error(let message) = reply { throw RedisReplyError("BGSAVE on \(node.name): \(message)") }
        // Lowering the fork's priority is a courtesy to the node's clients; the save goes on either way.
        if let pid = try? runningNodePID(node) { ProcessControl.deprioritiseChildren(of: pid) }
        while true {
            try await Task.sleep(for: .milliseconds(5))
            let now = try await persistence()
            if now["rdb_bgsave_in_progress"] != "1", (Int(now["rdb_saves"] ?? "") ?? 0) > saves || now["rdb_last_bgsave_status"] != "ok" {
                guard now["rdb_last_bgsave_status"] == "ok" else {
                    throw ProcessError("BGSAVE on \(node.name) failed (rdb_last_bgsave_status:\(now["rdb_last_bgsave_status"] ?? "?")); see its redis.log")
                }
                break
            }
            guard clock.now < deadline else { throw ProcessError("BGSAVE on \(node.name) did not finish within 10 minutes") }
        }
        return "\(nodeDirectory(node.name))/dump.rdb"
    }

    public func inspectRDB(_ path: String, digest: Bool) async throws -> RDBContents {
        let server = try await ScratchServer.start(
            enginePath: enginePath, scratchDirectory: scratchDirectory,
            arguments: ["--dbfilename", "data.rdb", "--enable-debug-command", "local"], moving: [path: "data.rdb"])
        defer { server.stop() }
        let commands = digest ? [["DBSIZE"], ["DEBUG", "DIGEST"]] : [["DBSIZE"]]
        let replies = try await RedisClient(timeout: .seconds(600)).send(commands, to: server.address, as: nil)
        guard let keys = replies[0].integer else {
            throw ProcessError("a scratch redis-server did not report the RDB's size: \(replies)")
        }
        return RDBContents(keys: keys, digest: digest ? try replies[1].orThrow().string : nil)
    }

    public func seed(_ node: NodeSpec, fromRDB path: String) throws {
        let directory = "\(nodeDirectory(node.name))/appendonly"
        // Absent on a first start (the usual case); what matters is that the next line succeeds.
        try? FileManager.default.removeItem(atPath: directory)
        try Self.makePrivateDirectory(directory)
        // Redis 7 starts from its AOF and ignores dump.rdb when appendonly is on, so the RDB
        // becomes the AOF's base, as an AOF rewrite would have left it.
        try FileManager.default.moveItem(atPath: path, toPath: "\(directory)/appendonly.aof.1.base.rdb")
        try Self.writePrivateFile("\(directory)/appendonly.aof.1.incr.aof", "")
        try Self.writePrivateFile(
            "\(directory)/appendonly.aof.manifest",
            "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n")
    }

    public func hasData(_ node: NodeSpec) -> Bool {
        FileManager.default.fileExists(atPath: "\(nodeDirectory(node.name))/appendonly/appendonly.aof.manifest")
    }

    public func importRDB(_ path: String, into primaries: [SlotOwner]) async throws -> Int {
        var owner = [Int](repeating: -1, count: SlotRange.slotCount)
        for (index, primary) in primaries.enumerated() {
            for range in primary.slots { for slot in range.first...range.last { owner[slot] = index } }
        }
        guard !owner.contains(-1) else { throw ProcessError("the cluster does not serve every slot; cannot import") }
        var arguments = ["--dbfilename", "data.rdb"]
        var moving = [path: "data.rdb"]
        let staging = "\(scratchDirectory)/\(UUID().uuidString.prefix(8).lowercased())-tls"
        // Scratch space under the data directory: a leftover is removed with the scratch directory.
        defer { try? FileManager.default.removeItem(atPath: staging) }
        if primaries.contains(where: \.node.tls) {
            // MIGRATE to a TLS node speaks TLS as the cluster bus does, with a certificate of its own.
            try Self.makePrivateDirectory(staging)
            let authority = try certificates.authority()
            let issued = try authority.issue(commonName: "memoryplane-import", names: ["memoryplane-import"])
            try Self.writePrivateFile("\(staging)/tls.crt", issued.certificatePEM)
            try Self.writePrivateFile("\(staging)/tls.key", issued.keyPEM)
            try Self.writePrivateFile("\(staging)/ca.pem", authority.certificatePEM)
            moving["\(staging)/tls.crt"] = "tls.crt"
            moving["\(staging)/tls.key"] = "tls.key"
            moving["\(staging)/ca.pem"] = "ca.pem"
            arguments += ["--tls-cert-file", "tls.crt", "--tls-key-file", "tls.key", "--tls-ca-cert-file", "ca.pem", "--tls-cluster", "yes"]
        }
        let server = try await ScratchServer.start(enginePath: enginePath, scratchDirectory: scratchDirectory, arguments: arguments, moving: moving)
        defer { server.stop() }
        let local = RedisClient(timeout: .seconds(120))
        let total = try await local.command("DBSIZE", to: server.address, as: nil).integer ?? 0
        var cursor = "0"
        var moved = 0
        repeat {
            let page = try await local.command("SCAN", cursor, "COUNT", "2000", to: server.address, as: nil)
            guard let fields = page.array, fields.count == 2, let next = fields[0].string, let keys = fields[1].array else {
                throw ProcessError("SCAN on the scratch server answered \(page)")
            }
            cursor = next
            var batches: [Int: [String]] = [:]
            for case .bulkString(let bytes?) in keys {
                batches[owner[KeySlot.of(bytes)], default: []].append(String(decoding: bytes, as: UTF8.self))
            }
            // One MIGRATE per owner per page: the server moves the whole batch in one exchange.
            let commands = batches.sorted { $0.key < $1.key }.map { index, keys -> [String] in
                let target = primaries[index].node
                return ["MIGRATE", target.address.host, String(target.port), "", "0", "60000", "REPLACE", "AUTH2", target.admin.user,
                        target.admin.password, "KEYS"] + keys
            }
            if !commands.isEmpty {
                for (reply, command) in zip(try await local.send(commands, to: server.address, as: nil), commands) {
                    if case .error(let message) = reply {
                        throw ProcessError("MIGRATE of \(command.count - 11) keys to port \(command[2]) failed: \(message)")
                    }
                }
            }
            moved += batches.values.reduce(0) { $0 + $1.count }
        } while cursor != "0"
        // MIGRATE removes what it moved: anything left was not moved (a key name that is not
        // valid UTF-8 cannot be named back), and the import is not complete.
        let left = try await local.command("DBSIZE", to: server.address, as: nil).integer ?? 0
        guard left == 0 else {
            throw ProcessError("\(left) of \(total) keys could not be moved (key names that are not UTF-8 are not supported by the import)")
        }
        return moved
    }
}
