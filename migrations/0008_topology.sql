-- Desired topology: which slots each shard serves and which node should be its primary. A
-- node's desired role follows from it (primary when it is its shard's primary_node, replica
-- otherwise) and is kept apart from nodes.role, which is what the data plane was last seen
-- doing. Creation writes these rows; failover changes primary_node in the transaction that
-- records its event.
CREATE TABLE shards (
    cluster_name TEXT NOT NULL REFERENCES clusters(name) ON DELETE CASCADE,
    shard_index INTEGER NOT NULL,
    -- Slot ranges, "0-5460" or "0-99,200-5460".
    slots TEXT NOT NULL,
    primary_node TEXT NOT NULL,
    PRIMARY KEY (cluster_name, shard_index)
);

-- Existing clusters: the even split creation used, and the node seen as primary (else node 1).
INSERT INTO shards (cluster_name, shard_index, slots, primary_node)
SELECT c.name, s.shard_index,
    ((s.shard_index - 1) * (16384 / c.num_shards) + MIN(s.shard_index - 1, 16384 % c.num_shards))
        || '-' ||
    ((s.shard_index - 1) * (16384 / c.num_shards) + MIN(s.shard_index - 1, 16384 % c.num_shards)
        + (16384 / c.num_shards) + (CASE WHEN s.shard_index - 1 < 16384 % c.num_shards THEN 1 ELSE 0 END) - 1),
    COALESCE(
        (SELECT n.name FROM nodes n WHERE n.cluster_name = c.name AND n.shard_index = s.shard_index AND n.role = 'primary'
            ORDER BY n.node_index LIMIT 1),
        (SELECT n.name FROM nodes n WHERE n.cluster_name = c.name AND n.shard_index = s.shard_index
            ORDER BY n.node_index LIMIT 1))
FROM clusters c JOIN (SELECT DISTINCT cluster_name, shard_index FROM nodes) s ON s.cluster_name = c.name;

-- The operation in progress on a shard (one at a time per shard), so a control plane killed in
-- the middle of it finishes it after a restart. `phase` says how far it got; `last_error` why
-- the last step failed.
CREATE TABLE operations (
    cluster_name TEXT NOT NULL REFERENCES clusters(name) ON DELETE CASCADE,
    shard_index INTEGER NOT NULL,
    -- failover (FailoverShard), automatic-failover (primary crashed or hung, storage kept),
    -- zone-failover (primary lost with its storage, in a drill).
    kind TEXT NOT NULL,
    from_node TEXT NOT NULL,
    to_node TEXT NOT NULL,
    phase TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- The old primary's replication offset when it was lost, when it could be read.
    from_offset INTEGER,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_error TEXT,
    PRIMARY KEY (cluster_name, shard_index)
);

-- Why the cluster's last reconcile step kept failing (NULL once a pass settles).
ALTER TABLE clusters ADD COLUMN last_error TEXT;

-- Availability-zone drills: nodes stopped on purpose until held_until (milliseconds since 1970),
-- their storage discarded before they come back as replicas.
ALTER TABLE nodes ADD COLUMN held_until INTEGER;
ALTER TABLE nodes ADD COLUMN storage_lost INTEGER NOT NULL DEFAULT 0;

CREATE TABLE drills (
    id TEXT PRIMARY KEY NOT NULL,
    cluster_name TEXT NOT NULL REFERENCES clusters(name) ON DELETE CASCADE,
    -- What was lost: "availability zone us-east-1b", "node x", "primary of shard 0001".
    target TEXT NOT NULL,
    -- Comma-separated node names.
    nodes TEXT NOT NULL,
    -- running → recovering → completed
    status TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    completed_at INTEGER,
    outcome TEXT
);
CREATE INDEX drills_by_cluster ON drills(cluster_name);
