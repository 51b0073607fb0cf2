-- The audit trail: every mutating call through either door, every step of a stack run, and
-- every refused signature, with who made it and how it ended. Request parameters are stored
-- with secrets removed.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Milliseconds since 1970.
    time INTEGER NOT NULL,
    access_key_id TEXT NOT NULL,
    source_address TEXT NOT NULL,
    -- aws, rest or stack
    door TEXT NOT NULL,
    operation TEXT NOT NULL,
    resource TEXT NOT NULL,
    -- JSON, secrets removed.
    parameters TEXT NOT NULL,
    -- success, or the fault code.
    outcome TEXT NOT NULL,
    http_status INTEGER NOT NULL
);
CREATE INDEX audit_events_by_time ON audit_events(time);
