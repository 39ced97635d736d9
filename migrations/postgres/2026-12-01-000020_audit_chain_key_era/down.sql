DROP TABLE audit_rekey_due;
ALTER TABLE audit_events DROP COLUMN key_era;
