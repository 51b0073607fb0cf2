-- Settings the AWS door accepts at creation and reports back.
ALTER TABLE clusters ADD COLUMN maintenance_window TEXT NOT NULL DEFAULT 'sun:23:00-mon:01:30';
ALTER TABLE clusters ADD COLUMN snapshot_window TEXT NOT NULL DEFAULT '05:00-06:00';
ALTER TABLE clusters ADD COLUMN auto_minor_version_upgrade INTEGER NOT NULL DEFAULT 1;
CREATE INDEX tags_by_resource ON tags(resource_arn);
