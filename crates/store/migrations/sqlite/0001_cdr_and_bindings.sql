-- Call detail records: one calls row per call, one legs row per leg (causeway-callctl's CallRecord);
-- legs.position keeps the record's leg order (start order), legs.leg is call control's leg number.
-- Times are microseconds since the Unix epoch (UTC).
CREATE TABLE calls (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id             TEXT NOT NULL,
    calling_number      TEXT,
    calling_name        TEXT,
    calling_uri         TEXT,
    called              TEXT NOT NULL,
    line                TEXT,
    anchored_user       TEXT,
    started_us          INTEGER NOT NULL,
    answered_us         INTEGER,
    ended_us            INTEGER,
    status              INTEGER,
    released_by         TEXT,
    answered_leg        INTEGER,
    early_media_leg     INTEGER,
    forward_reason      TEXT,
    forward_destination TEXT
) STRICT;
CREATE INDEX calls_by_start ON calls (started_us, id);
CREATE INDEX calls_by_call_id ON calls (call_id);

CREATE TABLE legs (
    call        INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    leg         INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    target      TEXT NOT NULL,
    zone        TEXT,
    started_us  INTEGER NOT NULL,
    ringing_us  INTEGER,
    answered_us INTEGER,
    ended_us    INTEGER,
    status      INTEGER,
    cause       TEXT,
    released_by TEXT,
    reason      TEXT,
    PRIMARY KEY (call, leg)
) STRICT, WITHOUT ROWID;

-- Registrar bindings (RFC 3261 §10.3), one row per (AOR, contact).
CREATE TABLE bindings (
    aor         TEXT NOT NULL,
    contact     TEXT NOT NULL,
    expires_us  INTEGER NOT NULL,
    q           INTEGER,
    call_id     TEXT NOT NULL,
    cseq        INTEGER NOT NULL,
    instance_id TEXT,
    reg_id      INTEGER,
    path        TEXT NOT NULL,
    transport   TEXT,
    source      TEXT,
    local       TEXT,
    PRIMARY KEY (aor, contact)
) STRICT, WITHOUT ROWID;
CREATE INDEX bindings_by_expiry ON bindings (expires_us);
