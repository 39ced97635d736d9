-- The outbox (docs/contract.md "Back-channel logout and the outbox"):
-- messages to other systems, written in the transaction of the change that
-- causes them and delivered afterwards, at least once, by `src/outbox/` on
-- any instance. Today one kind:
-- `backchannel_logout` (OIDC Back-Channel Logout 1.0), one row per delegated
-- session of an app with a `backchannel_logout_uri`, due when its grant
-- expires and moved to now when the grant ends early. `payload` is JSON and
-- never holds a token: the logout token is signed at each attempt.
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY NOT NULL,   -- also the logout token's jti
    kind             TEXT NOT NULL,
    destination      TEXT NOT NULL,
    payload          TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    due_at           BIGINT NOT NULL,             -- not sent before
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,             -- due_at, then later after each failure
    claimed_until    BIGINT,                      -- an instance is sending it until then
    delivered_at     BIGINT,
    last_error       TEXT,
    grant_id         TEXT                         -- the grant whose end makes it due
);
-- The deliverer's query: undelivered rows by their next attempt.
CREATE INDEX outbox_undelivered ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX outbox_by_grant ON outbox (grant_id);
