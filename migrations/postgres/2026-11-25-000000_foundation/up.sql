-- Foundation: clients, users, signing keys, token state and the audit trail.
-- Timestamps are Unix seconds; lists are space-separated (no member holds a space).

CREATE TABLE clients (
    client_id     TEXT PRIMARY KEY NOT NULL,
    secret_hash   BYTEA,                 -- SHA-256 of the secret; NULL for public clients
    is_public     BOOLEAN NOT NULL,
    first_party   BOOLEAN NOT NULL,
    name          TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    grant_types   TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    audiences     TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE users (
    sub           TEXT PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT,                 -- argon2id PHC string
    is_agent      BOOLEAN NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);

CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY NOT NULL,
    alg             TEXT NOT NULL,      -- the one algorithm this key is used with
    purpose         TEXT NOT NULL,      -- access_token | id_token
    encrypted_pkcs8 BYTEA NOT NULL,      -- AES-256-GCM: nonce || ciphertext+tag
    public_jwk      TEXT NOT NULL,
    published_at    BIGINT NOT NULL,    -- in the JWKS from here on
    signs_from      BIGINT NOT NULL     -- signs from here on, until a newer key does
);
CREATE INDEX signing_keys_by_purpose ON signing_keys (purpose, signs_from);

-- State of tokens the server must remember: opaque tokens by hash, and JWTs by
-- `jti` once something (revocation, a delegated grant) needs them.
CREATE TABLE issued_tokens (
    id          TEXT PRIMARY KEY NOT NULL,  -- jti, or hex SHA-256 of an opaque token
    kind        TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX issued_tokens_by_expiry ON issued_tokens (expires_at);

CREATE TABLE audit_events (
    seq         BIGSERIAL PRIMARY KEY,
    occurred_at BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT,
    detail      TEXT NOT NULL,
    prev_hash   BYTEA NOT NULL,
    hash        BYTEA NOT NULL
);
