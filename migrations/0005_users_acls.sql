-- Users: passwords only as the SHA-256 hashes Redis ACLs accept.
CREATE TABLE users (
    name TEXT PRIMARY KEY NOT NULL,
    access_string TEXT NOT NULL,
    authentication_type TEXT NOT NULL,
    password_hashes TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

CREATE TABLE acls (
    name TEXT PRIMARY KEY NOT NULL,
    -- Bumped whenever the ACL's membership or any member changes.
    revision INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE acl_users (
    acl_name TEXT NOT NULL REFERENCES acls(name) ON DELETE CASCADE,
    user_name TEXT NOT NULL,
    PRIMARY KEY (acl_name, user_name)
);

-- "<acl>@<revision>" last pushed to every node of the cluster.
ALTER TABLE clusters ADD COLUMN acl_applied TEXT NOT NULL DEFAULT '';
