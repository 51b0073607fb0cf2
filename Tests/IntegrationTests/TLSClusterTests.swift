import Control
import Runtime
import Reconciler
import Engine
import Foundation
import Model
import Store
import Testing
import Ports

/// TLS clusters on real nodes: the default, verified end to end, renewed without a restart.
@Suite(.serialized) struct TLSClusterTests {
    @Test func aDefaultClusterSpeaksTLSOnlyAndRenewsItsCertificates() async throws {
        try await DataPlaneHarness.with(ports: 21300...21399) { harness in
            let view = try harness.service.createCluster(
                CreateClusterRequest(name: "secure", nodeType: "db.t4g.small", numShards: 1, numReplicasPerShard: 1, aclName: "open-access"))
            #expect(view.tlsEnabled)
            let ready = try await harness.waitAvailable("secure")
            let verified = RedisClient(timeout: .seconds(5), tlsContext: try harness.dataPlane.certificates.clientContext())
            let endpoint = NodeAddress(port: ready.clusterEndpoint.port, tls: true)
            #expect(try await verified.command("PING", to: endpoint, as: nil).string == "PONG")
            let primary = NodeAddress(port: ready.shards[0].nodes[0].endpoint.port, tls: true)
            #expect(try await verified.command("SET", "{k}1", "v", to: primary, as: nil).string == "OK")

            // No plaintext port: a plaintext client gets no reply.
            let plain = RedisClient(timeout: .seconds(2))
            await #expect(throws: (any Error).self) {
                try await plain.command("PING", to: NodeAddress(port: primary.port), as: nil)
            }

            // A certificate in its last month is replaced and loaded by the running node.
            let node = try #require(try harness.store.nodes(ofCluster: "secure").first)
            let directory = harness.dataPlane.nodeDirectory(node.name)
            let authority = try harness.dataPlane.certificates.authority()
            let shortLived = try authority.issue(commonName: node.name, validity: 86400)
            let stamp = Int(Date().timeIntervalSince1970 * 1000)
            try LocalDataPlane.writePrivateFile("\(directory)/tls-\(stamp).key", shortLived.keyPEM)
            try LocalDataPlane.writePrivateFile("\(directory)/tls-\(stamp).crt", shortLived.certificatePEM)
            let spec = NodeSpec(
                name: node.name, port: node.port, busPort: node.busPort, maxmemoryBytes: 1 << 30,
                admin: NodeCredentials(user: ClusterService.adminUserName, password: try #require(try harness.store.cluster(named: "secure")).adminPassword),
                tls: true)
            // The node is still using its first certificate; point it at the short-lived one first.
            _ = try await verified.command(
                "CONFIG", "SET", "tls-cert-file", "\(directory)/tls-\(stamp).crt", "tls-key-file", "\(directory)/tls-\(stamp).key",
                to: spec.address, as: spec.admin)
            // Renewed here, or by the reconciler's own periodic check if it got there first.
            _ = try await harness.dataPlane.renewCertificateIfDue(spec)
            let renewed = try await harness.eventually {
                let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".crt") }
                return !files.contains("tls-\(stamp).crt") && !files.isEmpty
            }
            #expect(renewed)
            #expect(!(try await harness.dataPlane.renewCertificateIfDue(spec)))
            #expect(try await verified.command("GET", "{k}1", to: primary, as: nil).string == "v")
        }
    }
}
