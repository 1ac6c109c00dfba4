-- Call detail records: one calls row per call, one legs row per leg (causeway-callctl's CallRecord);
-- legs.position keeps the record's leg order (start order), legs.leg is call control's leg number.
CREATE TABLE calls (
    id                  BIGSERIAL PRIMARY KEY,
    call_id             TEXT NOT NULL,
    calling_number      TEXT,
    calling_name        TEXT,
    calling_uri         TEXT,
    called              TEXT NOT NULL,
    line                TEXT,
    anchored_user       TEXT,
    started             TIMESTAMPTZ NOT NULL,
    answered            TIMESTAMPTZ,
    ended               TIMESTAMPTZ,
    status              BIGINT,
    released_by         TEXT,
    answered_leg        BIGINT,
    early_media_leg     BIGINT,
    forward_reason      TEXT,
    forward_destination TEXT
);
CREATE INDEX calls_by_start ON calls (started, id);
CREATE INDEX calls_by_call_id ON calls (call_id);

CREATE TABLE legs (
    call        BIGINT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    leg         BIGINT NOT NULL,
    position    BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    target      TEXT NOT NULL,
    zone        TEXT,
    started     TIMESTAMPTZ NOT NULL,
    ringing     TIMESTAMPTZ,
    answered    TIMESTAMPTZ,
    ended       TIMESTAMPTZ,
    status      BIGINT,
    cause       TEXT,
    released_by TEXT,
    reason      TEXT,
    PRIMARY KEY (call, leg)
);

-- Registrar bindings (RFC 3261 §10.3), one row per (AOR, contact).
CREATE TABLE bindings (
    aor         TEXT NOT NULL,
    contact     TEXT NOT NULL,
    expires     TIMESTAMPTZ NOT NULL,
    q           BIGINT,
    call_id     TEXT NOT NULL,
    cseq        BIGINT NOT NULL,
    instance_id TEXT,
    reg_id      BIGINT,
    path        TEXT NOT NULL,
    transport   TEXT,
    source      TEXT,
    local       TEXT,
    PRIMARY KEY (aor, contact)
);
CREATE INDEX bindings_by_expiry ON bindings (expires);
