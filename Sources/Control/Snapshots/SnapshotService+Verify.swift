import Ports
import Foundation
import Logging
import Model
import Store

extension SnapshotService {
    /// Restore verification: restores the snapshot into a scratch cluster (the same path a
    /// CreateCluster with SnapshotName takes), reads what its primaries hold (an RDB of each,
    /// loaded in a scratch server: key count and Redis' digest), compares that with what the
    /// snapshot recorded when it was taken, deletes the scratch cluster, and records the result
    /// on the snapshot and as an event. A damaged file fails the verification with the reason.
    /// Redis' digest of the snapshot's data: per shard, read once from its file (decrypted and
    /// checked against its SHA-256) and kept with the shard.
    func recordedDigest(of details: Store.SnapshotDetails, dataPlane: any DataPlane) async throws -> String {
        let storage = try requireStorage()
        var digests: [String] = []
        for shard in details.shards {
            if let digest = shard.digest {
                digests.append(digest)
                continue
            }
            guard let file = shard.file, let sha = shard.sha256 else { throw MemoryDBError(.invalidSnapshotState, "shard \(shard.shardIndex) has no file") }
            let plain = try storage.stagingPath("digest-\(details.snapshot.name)")
            do {
                try storage.decrypt(snapshot: details.snapshot.name, file: file, sha256: sha, to: plain)
            } catch let error as SnapshotFileError {
                throw MemoryDBError.invalid("Snapshot '\(details.snapshot.name)' cannot be read: \(error.message).")
            }
            let contents = try await dataPlane.inspectRDB(plain, digest: true)
            guard let digest = contents.digest else { throw MemoryDBError(.internalFailure, "no digest of shard \(shard.shardIndex)") }
            var recorded = shard
            recorded.digest = digest
            try store.write { transaction in try transaction.update(recorded) }
            digests.append(digest)
        }
        return DatasetDigest.combine(digests)
    }

    public func verify(_ rawName: String, timeout: Duration = .seconds(600)) async throws -> SnapshotVerification {
        _ = try requireStorage()
        guard let dataPlane else { throw MemoryDBError(.invalidParameterCombination, "This server has no data plane, so it verifies no snapshots.") }
        let name = rawName.lowercased()
        guard let details = try store.snapshot(named: name) else { throw MemoryDBError(.snapshotNotFound, "Snapshot '\(name)' not found.") }
        guard details.snapshot.status == .available else {
            throw MemoryDBError(.invalidSnapshotState, "Snapshot '\(name)' is \(details.snapshot.status.rawValue); only an available snapshot can be verified.")
        }
        let clock = configuration.clock
        let started = clock.monotonic
        let expectedKeys = details.shards.compactMap(\.keyCount).reduce(0, +)
        var expectedDigest = DatasetDigest.empty
        let scratch = "verify-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        var foundKeys = 0
        var foundDigest = DatasetDigest.empty
        var problem: String?
        do {
            expectedDigest = try await recordedDigest(of: details, dataPlane: dataPlane)
            let configuration = try details.snapshot.clusterConfiguration()
            var request = CreateClusterRequest(
                name: scratch, nodeType: configuration.nodeType, numShards: details.shards.count, numReplicasPerShard: 0, aclName: "open-access",
                tlsEnabled: false, description: "Restore verification of snapshot \(name)")
            request.snapshotName = name
            _ = try clusters.createCluster(request)
            defer { _ = try? clusters.deleteCluster(scratch) }
            let deadline = clock.monotonic + timeout
            while true {
                guard let cluster = try store.cluster(named: scratch) else { throw MemoryDBError(.internalFailure, "the scratch cluster vanished") }
                if cluster.status == .available { break }
                if let error = cluster.lastError { throw MemoryDBError(.internalFailure, "the restore failed: \(error)") }
                guard clock.monotonic < deadline else { throw MemoryDBError(.internalFailure, "the restore did not finish within \(timeout)") }
                try await Task.sleep(for: .milliseconds(50))
            }
            guard let cluster = try store.cluster(named: scratch) else { throw MemoryDBError(.internalFailure, "the scratch cluster vanished") }
            var digests: [String] = []
            for shard in try store.shards(ofCluster: scratch) {
                guard let primary = try store.nodes(ofCluster: scratch).first(where: { $0.name == shard.primaryNode }) else { continue }
                let saved = try await dataPlane.saveRDB(NodeSpec.of(primary, in: cluster))
                let staging = try requireStorage().stagingPath("verify-\(scratch)")
                try FileManager.default.moveItem(atPath: saved, toPath: staging)
                let contents = try await dataPlane.inspectRDB(staging, digest: true)
                foundKeys += contents.keys
                digests.append(contents.digest ?? DatasetDigest.empty)
            }
            foundDigest = DatasetDigest.combine(digests)
            var differences: [String] = []
            if foundKeys != expectedKeys { differences.append("\(foundKeys) keys restored, \(expectedKeys) recorded (\(foundKeys - expectedKeys))") }
            if foundDigest != expectedDigest { differences.append("the restored data's digest is \(foundDigest), not the \(expectedDigest) recorded") }
            problem = differences.isEmpty ? nil : differences.joined(separator: "; ")
        } catch let error as MemoryDBError {
            problem = error.message
        } catch {
            problem = "\(error)"
        }
        let elapsed = clock.monotonic - started
        let result = SnapshotVerification(
            status: problem == nil ? "verified" : "failed", keysExpected: expectedKeys, keysFound: foundKeys, digestExpected: expectedDigest,
            digestFound: foundDigest, seconds: elapsed.seconds,
            verifiedAt: configuration.clock.nowMilliseconds, differences: problem)
        let json = String(decoding: (try? JSONEncoder().encode(result)) ?? Data(), as: UTF8.self)
        let message = problem.map { "Snapshot \(name) failed verification: \($0)" }
            ?? String(format: "Snapshot %@ verified: %d keys restored and identical (%.2f s)", name, foundKeys, result.seconds)
        try store.write { transaction in
            guard var snapshot = try transaction.snapshot(named: name)?.snapshot else { return }
            snapshot.verification = json
            try transaction.update(snapshot)
            try transaction.record(EventRecord(sourceName: details.snapshot.clusterName, sourceType: .cluster, message: message, createdAt: configuration.clock.nowMilliseconds))
        }
        logger.notice("\(message)", metadata: ["snapshot.name": "\(name)"])
        return result
    }
}
