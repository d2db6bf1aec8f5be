-- detente store, schema 4: the revision.

-- The revision (`Store::revision`): one number, bumped by triggers whenever a log grows or
-- a cosignature is added, by whichever process writes. Readers compare it to know whether
-- the logs changed without reading them.
CREATE TABLE revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
) STRICT;
INSERT INTO revision (id, n) VALUES (1, 0);

CREATE TRIGGER revision_on_append AFTER UPDATE OF size ON logs
BEGIN
    UPDATE revision SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER revision_on_cosignature AFTER INSERT ON cosignatures
BEGIN
    UPDATE revision SET n = n + 1 WHERE id = 1;
END;
