import Control
import Foundation
import Model
import Ports
import Store
import Testing

/// The access-key registry: what survives a restart, what never reaches the database in clear,
/// and the admin key that cannot be lost.
@Suite struct AccessKeyServiceTests {
    static let fileKey = AccessKey(id: "AKMPFILEKEY", secret: "the-file-secret-0123456789")

    @Test func keysSurviveARestartWithTheirSecretsSealed() throws {
        let store = try Store.inMemory()
        let sealer = SecretSealer.ephemeral()
        let clock = ManualWallClock(1_000_000)
        let keys = try AccessKeyService(store: store, sealer: sealer, clock: clock)
        try keys.bootstrap(admin: Self.fileKey, givenByOperator: false)
        let (reader, secret) = try keys.create(name: "dashboards", policy: AccessKeyPolicy.template("read-only", prefix: nil, tag: nil))
        let stored = try store.accessKeys()
        #expect(stored.count == 2)
        for record in stored {
            #expect(!String(decoding: record.sealedSecret, as: UTF8.self).contains(secret))
            #expect(!String(decoding: record.sealedSecret, as: UTF8.self).contains(Self.fileKey.secret))
        }

        let restarted = try AccessKeyService(store: store, sealer: sealer, clock: clock)
        guard case .active(let caller) = restarted.lookup(reader.id) else {
            Issue.record("the key did not survive the restart")
            return
        }
        #expect(caller.key.secret == secret && caller.name == "dashboards")
        #expect(caller.policy == PolicyTemplates.readOnly)
        #expect(throws: (any Error).self) { try AccessKeyService(store: store, sealer: .ephemeral(), clock: clock) }
    }

    @Test func theFileKeyIsImportedOnceAndAnOperatorKeyAlwaysWins() throws {
        let store = try Store.inMemory()
        let sealer = SecretSealer.ephemeral()
        let clock = ManualWallClock(1_000_000)
        let keys = try AccessKeyService(store: store, sealer: sealer, clock: clock)
        try keys.bootstrap(admin: Self.fileKey, givenByOperator: false)
        let (second, _) = try keys.create(name: "ops", policy: AccessKeyPolicy.template("admin", prefix: nil, tag: nil))
        try keys.delete(Self.fileKey.id)
        // A restart with the same credentials file does not bring a deleted key back.
        let restarted = try AccessKeyService(store: store, sealer: sealer, clock: clock)
        try restarted.bootstrap(admin: Self.fileKey, givenByOperator: false)
        guard case .unknown = restarted.lookup(Self.fileKey.id) else {
            Issue.record("a deleted file key came back")
            return
        }
        // The operator's --access-key-id is the way back in: made an active admin.
        #expect(throws: MemoryDBError.self) { try restarted.update(second.id, status: .inactive, policy: nil) }
        let given = AccessKey(id: "AKMPGIVEN", secret: "given-secret-0123456789")
        try restarted.bootstrap(admin: given, givenByOperator: true)
        guard case .active(let caller) = restarted.lookup(given.id) else {
            Issue.record("the operator's key is not active")
            return
        }
        #expect(caller.policy == PolicyTemplates.admin)
    }

    @Test func lastUseIsRecordedAtMostOnceAMinute() throws {
        let store = try Store.inMemory()
        let clock = ManualWallClock(10_000_000)
        let keys = try AccessKeyService(store: store, sealer: .ephemeral(), clock: clock)
        try keys.bootstrap(admin: Self.fileKey, givenByOperator: false)
        keys.recordUse(Self.fileKey.id)
        #expect(try store.accessKeys().first?.lastUsedAt == 10_000_000)
        clock.advance(byMilliseconds: 30_000)
        keys.recordUse(Self.fileKey.id)
        #expect(try store.accessKeys().first?.lastUsedAt == 10_000_000)
        #expect(try keys.describe(Self.fileKey.id).lastUsedAt == 10_030_000)
        clock.advance(byMilliseconds: 31_000)
        keys.recordUse(Self.fileKey.id)
        #expect(try store.accessKeys().first?.lastUsedAt == 10_061_000)
    }
}
