-- A rolling restart for an engine update snapshots the cluster first, unless it opted out.
ALTER TABLE clusters ADD COLUMN snapshot_before_update INTEGER NOT NULL DEFAULT 1;
