-- The parameter group and ACL revision a cluster's nodes run are stored as columns of their
-- own, not as `<name>@<revision>` (and `/restricted-<generation>`) text. Names never hold '@'
-- (letters, digits and hyphens only), so each marker converts in place; a cluster that never
-- applied one keeps NULLs. SQLite's CAST takes the leading integer of '3/restricted-2'.
ALTER TABLE clusters ADD COLUMN parameters_applied_group TEXT;
ALTER TABLE clusters ADD COLUMN parameters_applied_revision INTEGER;
ALTER TABLE clusters ADD COLUMN acl_applied_name TEXT;
ALTER TABLE clusters ADD COLUMN acl_applied_revision INTEGER;
ALTER TABLE clusters ADD COLUMN acl_applied_restricted_generation INTEGER;
UPDATE clusters SET
    parameters_applied_group = substr(parameters_applied, 1, instr(parameters_applied, '@') - 1),
    parameters_applied_revision = CAST(substr(parameters_applied, instr(parameters_applied, '@') + 1) AS INTEGER)
WHERE instr(parameters_applied, '@') > 0;
UPDATE clusters SET
    acl_applied_name = substr(acl_applied, 1, instr(acl_applied, '@') - 1),
    acl_applied_revision = CAST(substr(acl_applied, instr(acl_applied, '@') + 1) AS INTEGER),
    acl_applied_restricted_generation =
        CASE WHEN instr(acl_applied, '/restricted-') > 0
            THEN CAST(substr(acl_applied, instr(acl_applied, '/restricted-') + 12) AS INTEGER) END
WHERE instr(acl_applied, '@') > 0;
ALTER TABLE clusters DROP COLUMN parameters_applied;
ALTER TABLE clusters DROP COLUMN acl_applied;
