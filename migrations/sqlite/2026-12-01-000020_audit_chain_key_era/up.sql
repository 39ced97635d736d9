-- The audit chain becomes keyed (docs/security.md N6): each event's hash is an
-- HMAC-SHA-256 under a key derived from the key-encryption key, so rewriting
-- history needs that key. `key_era` names the key an event is chained under:
-- 0 is the unkeyed SHA-256 chain of earlier versions (what every existing row
-- is, and what an older binary would still write), 1 the first keyed era.
-- `behalf audit verify` accepts only keyed events.
ALTER TABLE audit_events ADD COLUMN key_era INTEGER NOT NULL DEFAULT 0;

-- The trail this migration found is re-keyed once, by the next start that has
-- the key (`audit::rekey`), which deletes this row in the same transaction.
CREATE TABLE audit_rekey_due (era INTEGER PRIMARY KEY NOT NULL);
INSERT INTO audit_rekey_due (era) VALUES (1);
