-- Dual ringing switched on or off per user against the configured default (causeway-callctl's
-- DualRingSwitches overrides), so a feature-code or admin toggle survives a restart.
CREATE TABLE dual_ring_overrides (
    userid    TEXT PRIMARY KEY,
    dual_ring INTEGER NOT NULL CHECK (dual_ring IN (0, 1))
) STRICT, WITHOUT ROWID;
