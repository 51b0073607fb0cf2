-- The reboot-only parameter values a node's running process was started with ("name=value;..."),
-- compared with what its group now says: a difference is applied by a rolling restart. NULL for
-- a node started before this column existed, taken as up to date.
ALTER TABLE nodes ADD COLUMN started_with TEXT;
