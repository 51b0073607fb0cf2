-- Alarm thresholds a cluster sets over the defaults, and the alarms raised now (one row per
-- node and metric in ALARM; cleared alarms are removed, their events stay).
CREATE TABLE alarm_thresholds (
    cluster_name TEXT NOT NULL REFERENCES clusters(name) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    threshold REAL NOT NULL,
    PRIMARY KEY (cluster_name, metric)
);
CREATE TABLE alarms (
    cluster_name TEXT NOT NULL REFERENCES clusters(name) ON DELETE CASCADE,
    node_name TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL NOT NULL,
    threshold REAL NOT NULL,
    raised_at INTEGER NOT NULL,
    PRIMARY KEY (cluster_name, node_name, metric)
);
