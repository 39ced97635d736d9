-- Teams and apps on grants (DESIGN.md "People, agents and teams", "Delegated
-- sign-in into any OIDC app"): a grant names an agent or a team (exactly one),
-- grants and requests list the delegated-sign-in apps they reach, and clients
-- opt in to delegated sign-in with their login and back-channel logout URIs.
ALTER TABLE grants ALTER COLUMN agent_sub DROP NOT NULL;
ALTER TABLE grants ADD COLUMN team TEXT;
ALTER TABLE grants ADD COLUMN apps TEXT NOT NULL DEFAULT '';
ALTER TABLE grants ADD CONSTRAINT grants_agent_or_team
    CHECK ((agent_sub IS NULL) <> (team IS NULL));
CREATE INDEX grants_by_team ON grants (team) WHERE team IS NOT NULL;

ALTER TABLE access_requests ADD COLUMN apps TEXT NOT NULL DEFAULT '';

ALTER TABLE clients ADD COLUMN delegated_sign_in BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN initiate_login_uri TEXT;
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;
