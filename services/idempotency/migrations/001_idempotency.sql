-- The first answer to every idempotent call, replayed on repeats.
CREATE TABLE idempotency_records (
    scope        TEXT    NOT NULL, -- the kind of call, e.g. "reservation"
    key          TEXT    NOT NULL, -- the caller-chosen resource id
    request_hash TEXT    NOT NULL, -- sha256 of the canonical request
    status       INTEGER NOT NULL,
    body         BLOB    NOT NULL,
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;

-- An undo that ran (or arrived before its do) leaves a tombstone; a later do is refused.
CREATE TABLE tombstones (
    scope      TEXT NOT NULL,
    key        TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
