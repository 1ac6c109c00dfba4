-- Dual ringing switched on or off per user against the configured default (causeway-callctl's
-- DualRingSwitches overrides), so a feature-code or admin toggle survives a restart.
CREATE TABLE dual_ring_overrides (
    userid    TEXT PRIMARY KEY,
    dual_ring BOOLEAN NOT NULL
);
