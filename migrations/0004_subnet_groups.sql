-- Custom subnet groups; `default` lives in the binary. A subnet is a local label pinned to an
-- availability zone: nodes of a cluster are spread over its group's zones.
CREATE TABLE subnet_groups (
    name TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE subnets (
    group_name TEXT NOT NULL REFERENCES subnet_groups(name) ON DELETE CASCADE,
    identifier TEXT NOT NULL,
    availability_zone TEXT NOT NULL,
    PRIMARY KEY (group_name, identifier)
);
