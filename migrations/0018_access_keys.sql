-- Access keys, each with its own IAM-style policy (issue 24). The secret is needed in clear to
-- verify a SigV4 signature (the signing key is an HMAC chain over it), so it cannot be stored as
-- a one-way hash: it is sealed with AES-GCM under a key kept in a 0600 file beside the database,
-- so a copy of the database alone (a backup, a bug report) reveals no secret.
CREATE TABLE access_keys (
    id TEXT PRIMARY KEY,
    -- The principal: a name may hold two keys at once (rotation).
    name TEXT NOT NULL,
    -- AES-GCM sealed box (nonce, ciphertext, tag) of the secret.
    sealed_secret BLOB NOT NULL,
    -- The IAM policy document, JSON as it is enforced.
    policy TEXT NOT NULL,
    -- The built-in template the policy came from (admin, read-only, ci), or NULL for a document.
    template TEXT,
    -- Active or Inactive.
    status TEXT NOT NULL,
    -- Milliseconds since 1970.
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX access_keys_by_name ON access_keys(name);

-- The audit trail names the key by its name (the principal) and records the authorisation
-- decision: allowed, denied, or unauthenticated. Rows written before keep ''.
ALTER TABLE audit_events ADD COLUMN access_key_name TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN decision TEXT NOT NULL DEFAULT '';
