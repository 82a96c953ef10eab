-- The event bus relay's position: the id of the last event the bus acknowledged.
-- epoch is random per database, so that two databases' events never share an id
-- (a fresh database starts its ids at 1 again).
CREATE TABLE outbox_position (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL,
    epoch    TEXT    NOT NULL
);
INSERT INTO outbox_position (id, position, epoch) VALUES (1, 0, lower(hex(randomblob(8))));
