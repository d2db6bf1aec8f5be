-- detente store, schema 3: acknowledgements of other parties' notifications by this
-- node's operators. Node-local (never in a log): the proof of receipt is the node's
-- cosignature; this records that a person of the office read it. One per notification:
-- the first acknowledgement stands.
CREATE TABLE acknowledgements (
    party              TEXT    NOT NULL,
    notification_id    TEXT    NOT NULL,
    operator           TEXT    NOT NULL,
    acknowledged_at_ms INTEGER NOT NULL,
    PRIMARY KEY (party, notification_id)
) STRICT, WITHOUT ROWID;
