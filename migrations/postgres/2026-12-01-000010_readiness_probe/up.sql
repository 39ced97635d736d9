-- One row that `/readyz` rewrites to prove the database takes a write
-- (docs/security.md L10): a database that answers reads but refuses writes
-- (read-only, disk full, a writer lock held elsewhere) is not ready.
CREATE TABLE readiness_probe (
    id         INTEGER PRIMARY KEY NOT NULL,
    checked_at BIGINT NOT NULL
);
INSERT INTO readiness_probe (id, checked_at) VALUES (1, 0);
