-- Stock levels mean one thing: stock_levels.quantity is the number of units on hand
-- (what PUT /api/stocks sets), and held counts the units that RESERVED reservations hold.
-- Available = quantity - held. Before this migration quantity was the available count
-- (a reservation subtracted its units, a release added them back, so that setting a
-- level while units were reserved and then releasing them created units); the units
-- held by the open reservations are added back to turn it into the on-hand count.
ALTER TABLE stock_levels ADD COLUMN held INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0);

UPDATE stock_levels SET held = (
    SELECT COALESCE(SUM(rl.quantity), 0)
    FROM reservation_lines rl JOIN reservations r ON r.id = rl.reservation_id
    WHERE r.status = 'RESERVED' AND r.store_id = stock_levels.store_id AND rl.product_id = stock_levels.product_id
);

UPDATE stock_levels SET quantity = quantity + held;
