-- Memory a node was last seen using (INFO memory used_memory, bytes, rounded to MiB): what a
-- smaller node type is checked against before a cluster is moved to it.
ALTER TABLE nodes ADD COLUMN used_memory INTEGER;
