-- Stock level per store and product. The CHECK is the last line of defence
-- against overselling; the handlers never try to go below zero.
CREATE TABLE stock_levels (
    store_id   INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity >= 0),
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (store_id, product_id)
) WITHOUT ROWID;

CREATE TABLE reservations (
    id             TEXT    PRIMARY KEY, -- caller-chosen (the Order UID)
    store_id       INTEGER NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('RESERVED', 'COMMITTED', 'RELEASED')),
    correlation_id TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
) WITHOUT ROWID;

CREATE TABLE reservation_lines (
    reservation_id TEXT    NOT NULL REFERENCES reservations (id),
    line_no        INTEGER NOT NULL,
    product_id     INTEGER NOT NULL,
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, line_no)
) WITHOUT ROWID;
