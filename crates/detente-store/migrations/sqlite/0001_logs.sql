-- detente store, schema 1. See the crate docs (src/lib.rs) for why it looks like this.

-- One row per log held: the node's own and every mirrored one.
CREATE TABLE logs (
    id     INTEGER PRIMARY KEY,
    origin TEXT    NOT NULL UNIQUE,
    size   INTEGER NOT NULL CHECK (size >= 0)
) STRICT;

-- Entry `idx` of a log. Clustered on (log_id, idx) (WITHOUT ROWID): one b-tree, reads of
-- a range are one sequential scan.
CREATE TABLE entries (
    log_id    INTEGER NOT NULL REFERENCES logs (id),
    idx       INTEGER NOT NULL CHECK (idx >= 0),
    leaf_hash BLOB    NOT NULL CHECK (length(leaf_hash) = 32),
    bytes     BLOB    NOT NULL,
    PRIMARY KEY (log_id, idx)
) STRICT, WITHOUT ROWID;

-- Covering index for `leaf_hashes`: ~45 bytes a row instead of the whole entry, so
-- rebuilding a tree reads a tenth of the pages.
CREATE INDEX entries_leaf_hashes ON entries (log_id, idx, leaf_hash);

-- Every checkpoint stored, one per size.
CREATE TABLE checkpoints (
    log_id       INTEGER NOT NULL REFERENCES logs (id),
    size         INTEGER NOT NULL CHECK (size >= 0),
    note         TEXT    NOT NULL,
    stored_at_ms INTEGER NOT NULL,
    PRIMARY KEY (log_id, size)
) STRICT, WITHOUT ROWID;

-- Cosignatures, by origin (not log id: one may arrive before the log is mirrored).
CREATE TABLE cosignatures (
    origin    TEXT    NOT NULL,
    size      INTEGER NOT NULL CHECK (size >= 0),
    cosigner  TEXT    NOT NULL,
    timestamp INTEGER NOT NULL CHECK (timestamp >= 0),
    line      TEXT    NOT NULL,
    PRIMARY KEY (origin, size, cosigner, timestamp)
) STRICT, WITHOUT ROWID;

-- Evidence, in the order recorded (id grows: nothing is ever deleted).
CREATE TABLE equivocations (
    id               INTEGER PRIMARY KEY,
    origin           TEXT    NOT NULL,
    held_note        TEXT    NOT NULL,
    conflicting_note TEXT    NOT NULL,
    detail           TEXT    NOT NULL,
    detected_at_ms   INTEGER NOT NULL
) STRICT;
