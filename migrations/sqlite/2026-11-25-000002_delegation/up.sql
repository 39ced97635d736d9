-- Delegated access: agents' requests, users' grants, and the links from
-- delegated tokens to their grant and to the actor token that minted them.

CREATE TABLE access_requests (
    id            TEXT PRIMARY KEY NOT NULL,
    agent_sub     TEXT NOT NULL REFERENCES users (sub),
    subject_sub   TEXT NOT NULL REFERENCES users (sub),
    client_id     TEXT NOT NULL REFERENCES clients (client_id),
    scopes        TEXT NOT NULL,
    duration      BIGINT NOT NULL,
    reason        TEXT NOT NULL,
    ticket        TEXT NOT NULL,
    status        TEXT NOT NULL,           -- pending | approved | denied | cancelled
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,         -- a pending request expires unanswered
    decided_at    BIGINT,
    grant_id      TEXT
);
CREATE INDEX access_requests_by_subject ON access_requests (subject_sub, status);
CREATE INDEX access_requests_by_agent ON access_requests (agent_sub);

CREATE TABLE grants (
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
    revoked_by    TEXT                     -- user | agent
);
CREATE INDEX grants_by_subject ON grants (subject_sub);
CREATE INDEX grants_by_agent ON grants (agent_sub);

ALTER TABLE issued_tokens ADD COLUMN grant_id TEXT;
ALTER TABLE issued_tokens ADD COLUMN parent_id TEXT;   -- jti of the actor token
CREATE INDEX issued_tokens_by_parent ON issued_tokens (parent_id);
CREATE INDEX audit_events_by_subject ON audit_events (subject);
