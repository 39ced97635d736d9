-- Delegated sign-in into an OIDC app (DESIGN.md "Delegated sign-in into any
-- OIDC app"): a code and a refresh-token family may be issued under a grant,
-- to the user, acted by an agent, in one delegated session (`sid`). Each
-- session is recorded so that the grant's end reaches the app (OIDC
-- Back-Channel Logout 1.0).
ALTER TABLE authorization_codes ADD COLUMN grant_id TEXT;
ALTER TABLE authorization_codes ADD COLUMN actor_sub TEXT;
ALTER TABLE authorization_codes ADD COLUMN sid TEXT;
ALTER TABLE refresh_tokens ADD COLUMN grant_id TEXT;
ALTER TABLE refresh_tokens ADD COLUMN actor_sub TEXT;
ALTER TABLE refresh_tokens ADD COLUMN sid TEXT;

CREATE TABLE delegated_sessions (
    sid          TEXT PRIMARY KEY NOT NULL,
    grant_id     TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    subject_sub  TEXT NOT NULL,
    agent_sub    TEXT NOT NULL,
    started_at   BIGINT NOT NULL
);
CREATE INDEX delegated_sessions_by_grant ON delegated_sessions (grant_id);
