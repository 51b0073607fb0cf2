-- Snapshots: one RDB per shard, encrypted under <data-dir>/snapshots/<name>/, with what the
-- cluster looked like when it was taken. A snapshot outlives its cluster (no foreign key).
CREATE TABLE snapshots (
    name TEXT PRIMARY KEY NOT NULL,
    cluster_name TEXT NOT NULL,
    -- creating → available (or failed); copying while a copy reads it; deleting
    status TEXT NOT NULL,
    -- manual | automated
    source TEXT NOT NULL,
    kms_key_id TEXT,
    created_at INTEGER NOT NULL,
    -- The cluster's configuration when the snapshot began, as JSON (ClusterConfiguration).
    configuration TEXT NOT NULL,
    -- Why it failed, when it did.
    last_error TEXT,
    -- The last restore verification, as JSON.
    verification TEXT
);
CREATE INDEX snapshots_by_cluster ON snapshots(cluster_name);

CREATE TABLE snapshot_shards (
    snapshot_name TEXT NOT NULL REFERENCES snapshots(name) ON DELETE CASCADE,
    shard_index INTEGER NOT NULL,
    slots TEXT NOT NULL,
    replica_count INTEGER NOT NULL,
    -- Set once the shard's encrypted RDB is in place: its name under the snapshot's directory,
    -- the plaintext's size and SHA-256, and what it holds (keys and Redis' digest of them).
    file TEXT,
    size INTEGER,
    sha256 TEXT,
    key_count INTEGER,
    digest TEXT,
    completed_at INTEGER,
    PRIMARY KEY (snapshot_name, shard_index)
);

-- Automatic snapshots: kept this many days (0: none).
ALTER TABLE clusters ADD COLUMN snapshot_retention_limit INTEGER NOT NULL DEFAULT 0;
-- A cluster created from a snapshot: the snapshot's name, or the export ARNs as a JSON list.
ALTER TABLE clusters ADD COLUMN restore_source TEXT;
-- The restore's progress: 'pending' until its data is in place, then NULL.
ALTER TABLE clusters ADD COLUMN restore_state TEXT;
-- DeleteCluster with FinalSnapshotName: the snapshot taken before anything is stopped.
ALTER TABLE clusters ADD COLUMN final_snapshot TEXT;
