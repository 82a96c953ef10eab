-- The service's own business event log (LOCK_CART, CREATE_RESERVATION, ...).
CREATE TABLE events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    action         TEXT NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('SUCCESS', 'FAILURE')),
    correlation_id TEXT NOT NULL,
    detail         TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX events_by_correlation ON events (correlation_id, id);
