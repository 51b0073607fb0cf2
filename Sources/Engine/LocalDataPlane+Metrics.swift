import Foundation
import Ports

/// Metrics readings of real nodes: one pipeline of `INFO all`, and `/proc` for CPU and memory.
extension LocalDataPlane: MetricsSource {
    public func sample(_ node: NodeSpec) async throws -> NodeSample {
        let replies = try await exchange([["INFO", "all"], ["ACL", "LOG", "128"]], with: node, timeout: observationTimeout)
        let text = try replies[0].orThrow().text()
        // A process that cannot be looked at has no CPU figure this sample; the rest still counts.
        let cpu = (try? runningNodePID(node)).flatMap { $0 }.flatMap(Self.processCPUSeconds)
        var sample = NodeSample.parse(info: text, processCPUSeconds: cpu, takenAt: Date().timeIntervalSince1970)
        sample.aclDenials = Self.aclDenials(fromLog: replies[1])
        return sample
    }

    /// `ACL LOG` entries (flat field/value arrays) summed by reason.
    static func aclDenials(fromLog reply: RESPValue) -> [String: Int64] {
        var totals: [String: Int64] = [:]
        guard case .array(let entries?) = reply else { return totals }
        for entry in entries {
            guard case .array(let fields?) = entry else { continue }
            var reason: String?
            var count: Int64 = 0
            var index = 0
            while index + 1 < fields.count {
                // ACL LOG entries are name/value pairs; a field that is not text is skipped, not fatal.
                let key = (try? fields[index].text()) ?? ""
                if key == "reason" { reason = try? fields[index + 1].text() }
                if key == "count", case .integer(let value) = fields[index + 1] { count = Int64(value) }
                index += 2
            }
            if let reason { totals[reason, default: 0] += count }
        }
        return totals
    }

    public func commandCategories(_ node: NodeSpec) async throws -> [String: Set<String>] {
        let reply = try await client(for: node.address, timeout: .seconds(5)).send([["COMMAND"]], to: node.address, as: node.admin)[0].orThrow()
        return Self.categories(fromCommandReply: reply)
    }

    /// `COMMAND`'s reply: per command (and subcommand, as `name|sub`) its ACL categories.
    static func categories(fromCommandReply reply: RESPValue) -> [String: Set<String>] {
        var categories: [String: Set<String>] = [:]
        func read(_ entry: RESPValue) {
            // An entry of another shape (a newer Redis) is skipped: categories are advisory.
            guard case .array(let fields?) = entry, fields.count >= 7, let name = try? fields[0].text() else { return }
            if case .array(let names?) = fields[6] {
                categories[name.lowercased()] = Set(names.compactMap { try? $0.text() }.map { $0.hasPrefix("@") ? String($0.dropFirst()) : $0 })
            }
            if fields.count >= 10, case .array(let subcommands?) = fields[9] { subcommands.forEach(read) }
        }
        if case .array(let entries?) = reply { entries.forEach(read) }
        return categories
    }

    public func slowlog(_ node: NodeSpec, count: Int) async throws -> [SlowlogEntry] {
        let reply = try await exchange([["SLOWLOG", "GET", String(count)]], with: node, timeout: observationTimeout)[0].orThrow()
        guard case .array(let entries?) = reply else { return [] }
        return entries.compactMap { entry in
            guard case .array(let fields?) = entry, fields.count >= 4, case .integer(let id) = fields[0], case .integer(let time) = fields[1],
                case .integer(let duration) = fields[2], case .array(let arguments?) = fields[3]
            else { return nil }
            return SlowlogEntry(
                // Arguments and client fields that are not text (binary keys) are left out of the entry.
                id: Int64(id), timestamp: Int64(time), durationMicroseconds: Int64(duration), arguments: arguments.compactMap { try? $0.text() },
                client: fields.count > 4 ? ((try? fields[4].text()) ?? "") : "", clientName: fields.count > 5 ? ((try? fields[5].text()) ?? "") : "")
        }
    }

    public func sampleKeySizes(_ node: NodeSpec, count: Int) async throws -> [(key: String, bytes: Int64)] {
        let client = try client(for: node.address)
        let keys = try await client.send(Array(repeating: ["RANDOMKEY"], count: count), to: node.address, as: node.admin)
            // A nil reply (the key expired between the two commands) is no key to sample.
            .compactMap { try? $0.text() }
        let unique = Array(Set(keys)).sorted()
        guard !unique.isEmpty else { return [] }
        let sizes = try await client.send(unique.map { ["MEMORY", "USAGE", $0] }, to: node.address, as: node.admin)
        return zip(unique, sizes).compactMap { key, reply in
            if case .integer(let bytes) = reply { return (key, Int64(bytes)) }
            return nil
        }.sorted { $0.bytes > $1.bytes }
    }

    public func hostAvailableMemory() -> Int64? {
        // No /proc (not Linux): the figure is unknown, which the metric reports as absent.
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let kilobytes = Int64(parts[1]) { return kilobytes * 1024 }
        }
        return nil
    }

    /// utime + stime of a process, in seconds (fields 14 and 15 of `/proc/<pid>/stat`, after the
    /// parenthesised command name, which may itself hold spaces).
    static func processCPUSeconds(_ pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After ")": state is field 3, so utime (14) and stime (15) are at offsets 11 and 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (user + system) / (ticks > 0 ? ticks : 100)
    }
}
