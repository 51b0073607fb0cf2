-- Reserved nodes bought with PurchaseReservedNodesOffering: the offering's terms as bought,
-- so a later price list changes nothing already purchased. The state (payment-pending, active,
-- retired) follows from the start and the duration, by the clock.
CREATE TABLE reserved_nodes (
    id TEXT PRIMARY KEY,
    offering_id TEXT NOT NULL,
    node_type TEXT NOT NULL,
    -- Milliseconds since 1970.
    start_time INTEGER NOT NULL,
    -- Seconds.
    duration INTEGER NOT NULL,
    fixed_price REAL NOT NULL,
    recurring_hourly REAL NOT NULL,
    node_count INTEGER NOT NULL,
    offering_type TEXT NOT NULL
);
