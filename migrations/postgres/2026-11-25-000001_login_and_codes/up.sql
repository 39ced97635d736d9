-- Login sessions, remembered app consent, authorization codes and refresh tokens.
-- Secrets (session ids, codes, refresh tokens) are stored as hex SHA-256 only.

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY NOT NULL,   -- SHA-256 of the cookie value
    user_sub    TEXT REFERENCES users (sub), -- NULL until the user logs in
    csrf_token  TEXT NOT NULL,
    auth_time   BIGINT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_sub);

CREATE TABLE app_consents (
    user_sub    TEXT NOT NULL REFERENCES users (sub),
    client_id   TEXT NOT NULL REFERENCES clients (client_id),
    scopes      TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    PRIMARY KEY (user_sub, client_id)
);

CREATE TABLE authorization_codes (
    id              TEXT PRIMARY KEY NOT NULL,  -- SHA-256 of the code; also the token family
    client_id       TEXT NOT NULL REFERENCES clients (client_id),
    redirect_uri    TEXT NOT NULL,
    user_sub        TEXT NOT NULL REFERENCES users (sub),
    scopes          TEXT NOT NULL,
    nonce           TEXT,
    code_challenge  TEXT NOT NULL,
    auth_time       BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    redeemed_at     BIGINT
);

CREATE TABLE refresh_tokens (
    id                  TEXT PRIMARY KEY NOT NULL,  -- SHA-256 of the token
    family_id           TEXT NOT NULL,
    client_id           TEXT NOT NULL REFERENCES clients (client_id),
    user_sub            TEXT NOT NULL REFERENCES users (sub),
    scopes              TEXT NOT NULL,
    auth_time           BIGINT NOT NULL,
    issued_at           BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,        -- idle lifetime
    family_expires_at   BIGINT NOT NULL,        -- absolute lifetime
    used_at             BIGINT,
    revoked_at          BIGINT
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_sub);

ALTER TABLE issued_tokens ADD COLUMN family_id TEXT;
CREATE INDEX issued_tokens_by_family ON issued_tokens (family_id);
CREATE INDEX issued_tokens_by_subject ON issued_tokens (subject);
