CREATE TABLE sales (
    id             TEXT    PRIMARY KEY, -- caller-chosen (the Order UID)
    store_id       INTEGER NOT NULL,
    order_id       TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('CREATED', 'CANCELLED')),
    total_cents    INTEGER NOT NULL CHECK (total_cents >= 0),
    correlation_id TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX sales_by_order ON sales (order_id, created_at);
CREATE INDEX sales_by_store ON sales (store_id, created_at);

CREATE TABLE sale_lines (
    sale_id          TEXT    NOT NULL REFERENCES sales (id),
    line_no          INTEGER NOT NULL,
    product_id       INTEGER NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (sale_id, line_no)
) WITHOUT ROWID;
