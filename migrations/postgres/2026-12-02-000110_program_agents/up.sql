-- Agents that are programs (docs/contract.md "Agents that are programs (OpenID
-- CIBA)"): a client registered `--program-agent` asks users for access with a
-- CIBA backchannel authentication request (CIBA Core 1.0 §7) and acts in its
-- own name. Its agent identity is a user row whose `sub` and username are the
-- client id (no password: it never signs in), made with the client, so that
-- requests, grants, token checks and the activity lines treat it as any agent.
ALTER TABLE clients ADD COLUMN program_agent BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN ciba_mode TEXT;                   -- poll | ping
ALTER TABLE clients ADD COLUMN ciba_notification_endpoint TEXT;  -- ping only

-- One per backchannel authentication request: the access request it became,
-- and what its token requests need (CIBA Core §7.3, §10, §11).
CREATE TABLE ciba_requests (
    auth_req_id_hash    TEXT PRIMARY KEY NOT NULL,  -- SHA-256 (hex) of auth_req_id
    request_id          TEXT NOT NULL,              -- access_requests.id
    client_id           TEXT NOT NULL,
    poll_interval       INTEGER NOT NULL,           -- seconds; grows by 5 at each slow_down
    polled_at           BIGINT,                     -- the last token request
    issued_at           BIGINT,                     -- the tokens, issued once
    -- Ping mode (§10.2): what the notification carries and presents, sealed
    -- under the key-encryption key (context: the hash); NULL in poll mode.
    sealed_auth_req_id  BYTEA,
    sealed_notification_token BYTEA,
    created_at          BIGINT NOT NULL
);
CREATE INDEX ciba_requests_by_request ON ciba_requests (request_id);
