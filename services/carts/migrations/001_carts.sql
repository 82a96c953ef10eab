-- A cart is OPEN, or held by exactly one order (LOCKED, then CHECKED_OUT).
CREATE TABLE carts (
    id           TEXT    PRIMARY KEY,
    store_id     INTEGER NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('OPEN', 'LOCKED', 'CHECKED_OUT')),
    locked_by    TEXT,   -- the order holding the cart
    request_hash TEXT    NOT NULL, -- of the creating request, to recognize a repeat
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    CHECK ((status = 'OPEN') = (locked_by IS NULL))
) WITHOUT ROWID;

CREATE TABLE cart_lines (
    cart_id          TEXT    NOT NULL REFERENCES carts (id),
    line_no          INTEGER NOT NULL,
    product_id       INTEGER NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (cart_id, line_no)
) WITHOUT ROWID;
