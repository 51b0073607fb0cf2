-- Tags used to outlive deleted parameter groups, subnet groups, users and ACLs, and a new
-- resource of the same name inherited them. Deletions now take their tags along; this removes
-- the orphans left before. Built-in objects (default user, open-access, default groups) keep theirs.
DELETE FROM tags
WHERE (resource_arn LIKE '%:cluster/%'
        AND substr(resource_arn, instr(resource_arn, ':cluster/') + 9) NOT IN (SELECT name FROM clusters))
   OR (resource_arn LIKE '%:user/%'
        AND substr(resource_arn, instr(resource_arn, ':user/') + 6) <> 'default'
        AND substr(resource_arn, instr(resource_arn, ':user/') + 6) NOT IN (SELECT name FROM users))
   OR (resource_arn LIKE '%:acl/%'
        AND substr(resource_arn, instr(resource_arn, ':acl/') + 5) <> 'open-access'
        AND substr(resource_arn, instr(resource_arn, ':acl/') + 5) NOT IN (SELECT name FROM acls))
   OR (resource_arn LIKE '%:parametergroup/%'
        AND substr(resource_arn, instr(resource_arn, ':parametergroup/') + 16) NOT LIKE 'default.%'
        AND substr(resource_arn, instr(resource_arn, ':parametergroup/') + 16) NOT IN (SELECT name FROM parameter_groups))
   OR (resource_arn LIKE '%:subnetgroup/%'
        AND substr(resource_arn, instr(resource_arn, ':subnetgroup/') + 13) <> 'default'
        AND substr(resource_arn, instr(resource_arn, ':subnetgroup/') + 13) NOT IN (SELECT name FROM subnet_groups));
