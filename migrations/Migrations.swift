/// The schema, as numbered SQL files compiled into the binary so the executable needs no files
/// beside it. Forward-only: a landed file is never edited; a change is a new file.
public enum Migrations {
    /// Every migration in the order it is applied; the identifier is the file name.
    public static let all: [(identifier: String, sql: String)] = [
        ("0001_initial", sql(PackageResources._001_initial_sql)),
        ("0002_cluster_windows", sql(PackageResources._002_cluster_windows_sql)),
        ("0003_parameter_groups", sql(PackageResources._003_parameter_groups_sql)),
        ("0004_subnet_groups", sql(PackageResources._004_subnet_groups_sql)),
        ("0005_users_acls", sql(PackageResources._005_users_acls_sql)),
        ("0006_orphan_tags", sql(PackageResources._006_orphan_tags_sql)),
        ("0007_security_groups", sql(PackageResources._007_security_groups_sql)),
        ("0008_topology", sql(PackageResources._008_topology_sql)),
        ("0009_snapshots", sql(PackageResources._009_snapshots_sql)),
        ("0010_node_memory", sql(PackageResources._010_node_memory_sql)),
        ("0011_node_config", sql(PackageResources._011_node_config_sql)),
        ("0012_service_updates", sql(PackageResources._012_service_updates_sql)),
        ("0013_stacks", sql(PackageResources._013_stacks_sql)),
        ("0014_audit", sql(PackageResources._014_audit_sql)),
        ("0015_alarms", sql(PackageResources._015_alarms_sql)),
        ("0016_lists_as_json", sql(PackageResources._016_lists_as_json_sql)),
        ("0017_applied_revisions_as_columns", sql(PackageResources._017_applied_revisions_as_columns_sql)),
        ("0018_access_keys", sql(PackageResources._018_access_keys_sql)),
        ("0019_deletion_protection", sql(PackageResources._019_deletion_protection_sql)),
        ("0020_snapshot_before_update", sql(PackageResources._020_snapshot_before_update_sql)),
        ("0021_reserved_nodes", sql(PackageResources._021_reserved_nodes_sql)),
    ]

    /// The names of the files this list registers, so a test can prove none is forgotten.
    public static var fileNames: [String] { all.map { $0.identifier + ".sql" } }

    private static func sql(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
