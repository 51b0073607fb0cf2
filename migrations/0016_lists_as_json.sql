-- Lists are stored as JSON arrays, not comma-joined text: a cluster's security group ids, a
-- drill's nodes, a user's password hashes. Every item stored so far is an id, a node name or a
-- hex hash (none holds a comma, a quote or a backslash), so each list converts in place.
UPDATE clusters SET security_group_ids =
    CASE WHEN security_group_ids = '' THEN '[]' ELSE '["' || replace(security_group_ids, ',', '","') || '"]' END;
UPDATE drills SET nodes =
    CASE WHEN nodes = '' THEN '[]' ELSE '["' || replace(nodes, ',', '","') || '"]' END;
UPDATE users SET password_hashes =
    CASE WHEN password_hashes = '' THEN '[]' ELSE '["' || replace(password_hashes, ',', '","') || '"]' END;
