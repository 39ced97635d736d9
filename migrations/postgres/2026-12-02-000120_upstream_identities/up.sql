-- Beside an existing identity provider (docs/contract.md "Beside an existing
-- identity provider"). A person or agent of a company IdP is linked to one
-- local user by the IdP's issuer and its `sub`, never by email
-- (docs/security.md O2): made at the first upstream sign-in, or at an agent's
-- first token from a trusted issuer.
CREATE TABLE user_identities (
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,   -- the IdP's `sub`
    user_sub      TEXT NOT NULL,   -- users.sub
    linked_at     BIGINT NOT NULL,
    last_used_at  BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_by_user ON user_identities (user_sub);

-- One per upstream sign-in under way: what its callback must match and send
-- (OIDC Core §3.1.2.1 `state`, `nonce`; RFC 7636 code verifier). Claimed once
-- (deleted) by the callback; older than 10 minutes it has expired.
CREATE TABLE upstream_logins (
    state_hash     TEXT PRIMARY KEY NOT NULL,  -- SHA-256 (hex) of `state`
    upstream_id    TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    return_to      TEXT NOT NULL,
    max_age        BIGINT,                     -- seconds, when asked for
    created_at     BIGINT NOT NULL
);
CREATE INDEX upstream_logins_by_age ON upstream_logins (created_at);
