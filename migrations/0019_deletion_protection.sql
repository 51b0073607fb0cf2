-- Deletion protection (beyond AWS MemoryDB, as RDS has it): while on, DeleteCluster is refused
-- on every door and a stack never deletes or replaces the cluster.
ALTER TABLE clusters ADD COLUMN deletion_protection INTEGER NOT NULL DEFAULT 0;
