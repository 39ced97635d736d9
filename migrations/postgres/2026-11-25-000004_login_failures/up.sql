-- Failed sign-ins (docs/security.md J4), in the database so that every instance
-- counts them together. Keys are 'account:<lowercased name>' or
-- 'address:<client IP>'; rows older than the throttle window are swept.
CREATE TABLE login_failures (
    id          BIGSERIAL PRIMARY KEY,
    throttle_key TEXT NOT NULL,
    failed_at   BIGINT NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (throttle_key, failed_at);
CREATE INDEX login_failures_by_time ON login_failures (failed_at);
