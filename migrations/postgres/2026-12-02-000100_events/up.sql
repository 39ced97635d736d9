-- Events (docs/contract.md "Events, webhooks, mail and security events"):
-- what happened to requests and grants, and the audit checkpoints, written
-- in the transaction of the change that causes each one. An event whose time
-- is now carries its `data` (the API's object then); one that waits for an
-- expiry (`access_request.expired`, `grant.ending_soon`, `grant.ended` by
-- expiry) or whose object is drawn later (`grant.used`, `audit.checkpoint`)
-- has none until it happens. The outbox deliverer claims each due event once
-- (`happened_at`, a conditional update), draws its data, and writes one
-- `outbox` row per destination in the same transaction; a waiting event the
-- change made moot (a request answered before it expired, a grant ended
-- early) is `dropped_at` instead.
CREATE TABLE events (
    id           TEXT PRIMARY KEY NOT NULL,   -- evt_...: the webhook-id, a SET's jti
    type         TEXT NOT NULL,
    subject_id   TEXT NOT NULL,               -- the request's or grant's id; the checkpoint's seq
    data         TEXT,                        -- JSON; NULL until it happens, for a waiting event
    created_at   BIGINT NOT NULL,
    due_at       BIGINT NOT NULL,             -- when it happens (its `timestamp`)
    happened_at  BIGINT,                      -- when it was sent to its destinations' outbox rows
    dropped_at   BIGINT                       -- a waiting event that did not happen
);
CREATE INDEX events_waiting ON events (due_at) WHERE happened_at IS NULL AND dropped_at IS NULL;
CREATE INDEX events_by_subject ON events (subject_id, type);
CREATE INDEX events_by_type ON events (type, created_at);

-- Standard Webhooks destinations (`behalf webhook add`): the secret is kept
-- sealed under the key-encryption key, since it must sign.
CREATE TABLE webhooks (
    id            TEXT PRIMARY KEY NOT NULL,
    url           TEXT NOT NULL,
    sealed_secret BYTEA NOT NULL,             -- AES-256-GCM: nonce || ciphertext+tag
    event_types   TEXT NOT NULL,              -- space-separated; empty: every type
    created_at    BIGINT NOT NULL
);

-- Security Event Token receivers (RFC 8935 push; `behalf receiver add`).
CREATE TABLE set_receivers (
    id          TEXT PRIMARY KEY NOT NULL,
    url         TEXT NOT NULL,
    audience    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- The event an outbox row delivers (NULL for back-channel logout rows).
ALTER TABLE outbox ADD COLUMN event_id TEXT;
-- When the grant was first used (a delegated token or a delegated sign-in):
-- the conditional update that sets it decides the one `grant.used` event.
ALTER TABLE grants ADD COLUMN first_used_at BIGINT;
