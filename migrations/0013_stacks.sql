-- Declarative stacks: the last document applied (passwords replaced by their SHA-256), the
-- state of the last apply or destroy, and which resources each stack owns.
CREATE TABLE stacks (
    name TEXT PRIMARY KEY,
    -- The redacted document as JSON.
    document TEXT NOT NULL,
    -- applying, applied, failed, destroying, destroy-failed
    status TEXT NOT NULL,
    -- The last apply or destroy as JSON: kind, times, steps, outcome, error.
    last_run TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- A resource belongs to at most one stack: the primary key is the resource.
CREATE TABLE stack_resources (
    resource_type TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    stack_name TEXT NOT NULL REFERENCES stacks(name) ON DELETE CASCADE,
    PRIMARY KEY (resource_type, resource_name)
);
CREATE INDEX stack_resources_by_stack ON stack_resources(stack_name);
