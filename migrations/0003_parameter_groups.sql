-- Custom parameter groups; the default groups live in the binary's catalog.
CREATE TABLE parameter_groups (
    name TEXT PRIMARY KEY NOT NULL,
    family TEXT NOT NULL,
    description TEXT NOT NULL,
    -- Bumped on every change, so the reconciler knows which clusters still need it applied.
    revision INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

-- Values that differ from the family's defaults.
CREATE TABLE parameter_values (
    group_name TEXT NOT NULL REFERENCES parameter_groups(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (group_name, name)
);

-- "<group>@<revision>" last applied to every node of the cluster.
ALTER TABLE clusters ADD COLUMN parameters_applied TEXT NOT NULL DEFAULT '';
