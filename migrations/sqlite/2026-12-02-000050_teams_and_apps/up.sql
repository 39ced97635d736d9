-- Teams and apps on grants (DESIGN.md "People, agents and teams", "Delegated
-- sign-in into any OIDC app"): a grant names an agent or a team (exactly one),
-- grants and requests list the delegated-sign-in apps they reach, and clients
-- opt in to delegated sign-in with their login and back-channel logout URIs.
-- SQLite cannot relax NOT NULL in place: the grants table is rebuilt (no
-- table references it).
CREATE TABLE grants_with_teams (
    id            TEXT PRIMARY KEY NOT NULL,
    subject_sub   TEXT NOT NULL REFERENCES users (sub),
    agent_sub     TEXT REFERENCES users (sub),
    client_id     TEXT NOT NULL REFERENCES clients (client_id),
    scopes        TEXT NOT NULL,
    audiences     TEXT NOT NULL,
    reason        TEXT NOT NULL,
    ticket        TEXT NOT NULL,
    request_id    TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    revoked_by    TEXT,                    -- user | agent | user_disabled
    team          TEXT,
    apps          TEXT NOT NULL DEFAULT '',
    CHECK ((agent_sub IS NULL) <> (team IS NULL))
);
INSERT INTO grants_with_teams
    (id, subject_sub, agent_sub, client_id, scopes, audiences, reason, ticket,
     request_id, created_at, expires_at, revoked_at, revoked_by)
SELECT id, subject_sub, agent_sub, client_id, scopes, audiences, reason, ticket,
       request_id, created_at, expires_at, revoked_at, revoked_by
FROM grants;
DROP TABLE grants;
ALTER TABLE grants_with_teams RENAME TO grants;
CREATE INDEX grants_by_subject ON grants (subject_sub);
CREATE INDEX grants_by_agent ON grants (agent_sub);
CREATE INDEX grants_by_team ON grants (team) WHERE team IS NOT NULL;

ALTER TABLE access_requests ADD COLUMN apps TEXT NOT NULL DEFAULT '';

ALTER TABLE clients ADD COLUMN delegated_sign_in BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN initiate_login_uri TEXT;
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;
