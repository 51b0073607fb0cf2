-- The engine version (x.y.z) of the binary a node's running process was started from: a node
-- runs a new patch only once restarted from it. NULL for a node started before this column
-- existed, taken as its cluster's EnginePatchVersion.
ALTER TABLE nodes ADD COLUMN engine_version TEXT;
-- When BatchUpdateCluster asked for the cluster's pending service updates to be applied now
-- (milliseconds since 1970); NULL: they wait for the cluster's maintenance window.
ALTER TABLE clusters ADD COLUMN updates_requested_at INTEGER;
-- When a parameter group's values last changed: the release date of the service update that
-- applies its reboot-only values.
ALTER TABLE parameter_groups ADD COLUMN revised_at INTEGER;
