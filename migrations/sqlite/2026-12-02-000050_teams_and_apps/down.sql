ALTER TABLE clients DROP COLUMN backchannel_logout_uri;
ALTER TABLE clients DROP COLUMN initiate_login_uri;
ALTER TABLE clients DROP COLUMN delegated_sign_in;
ALTER TABLE access_requests DROP COLUMN apps;
CREATE TABLE grants_by_agent_only (
    id            TEXT PRIMARY KEY NOT NULL,
    subject_sub   TEXT NOT NULL REFERENCES users (sub),
    agent_sub     TEXT NOT NULL REFERENCES users (sub),
    client_id     TEXT NOT NULL REFERENCES clients (client_id),
    scopes        TEXT NOT NULL,
    audiences     TEXT NOT NULL,
    reason        TEXT NOT NULL,
    ticket        TEXT NOT NULL,
    request_id    TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    revoked_by    TEXT
);
INSERT INTO grants_by_agent_only
SELECT id, subject_sub, agent_sub, client_id, scopes, audiences, reason, ticket,
       request_id, created_at, expires_at, revoked_at, revoked_by
FROM grants WHERE agent_sub IS NOT NULL;
DROP TABLE grants;
ALTER TABLE grants_by_agent_only RENAME TO grants;
CREATE INDEX grants_by_subject ON grants (subject_sub);
CREATE INDEX grants_by_agent ON grants (agent_sub);
