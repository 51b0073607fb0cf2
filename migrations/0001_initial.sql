-- Clusters: the desired state a caller asked for, plus the status the reconciler reports.
CREATE TABLE clusters (
    name TEXT PRIMARY KEY NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    node_type TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    engine_patch_version TEXT NOT NULL,
    parameter_group_name TEXT NOT NULL,
    acl_name TEXT NOT NULL,
    subnet_group_name TEXT NOT NULL,
    tls_enabled INTEGER NOT NULL,
    num_shards INTEGER NOT NULL,
    num_replicas_per_shard INTEGER NOT NULL,
    endpoint_port INTEGER NOT NULL UNIQUE,
    -- The internal admin user's password: the control plane's and replication's credential.
    admin_password TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Nodes: one row per redis-server; the port and Redis node id never change for the node's life.
CREATE TABLE nodes (
    name TEXT PRIMARY KEY NOT NULL,
    cluster_name TEXT NOT NULL REFERENCES clusters(name) ON DELETE CASCADE,
    shard_index INTEGER NOT NULL,
    node_index INTEGER NOT NULL,
    port INTEGER NOT NULL UNIQUE,
    availability_zone TEXT NOT NULL,
    status TEXT NOT NULL,
    role TEXT NOT NULL,
    redis_node_id TEXT,
    pid INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (cluster_name, shard_index, node_index)
);
CREATE INDEX nodes_by_cluster ON nodes(cluster_name);

-- Events: what happened to which resource, for DescribeEvents and operators.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_name TEXT NOT NULL,
    source_type TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX events_by_time ON events(created_at);

-- Tags by resource ARN.
CREATE TABLE tags (
    resource_arn TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (resource_arn, key)
);
