-- SecurityGroupIds given at CreateCluster or UpdateCluster, comma-separated; reported `active`.
ALTER TABLE clusters ADD COLUMN security_group_ids TEXT NOT NULL DEFAULT '';
