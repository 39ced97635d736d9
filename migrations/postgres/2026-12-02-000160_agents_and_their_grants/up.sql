-- Lookups that scanned a whole table once it grew (bench/README.md "Query plans"):
-- an agent's active grants (GET /api/grants?status=active, the grants a delegated
-- sign-in may run under) through its unrevoked ones alone (33 ms for an agent with
-- 50,000 grants before); the enabled agents by username (the consent screen's "Allow
-- support access" list read all 200,000 accounts); whether a team has an enabled agent;
-- the account with an email (CIBA login_hint, upstream sign-in).
CREATE INDEX grants_unrevoked_by_agent ON grants (agent_sub, expires_at) WHERE revoked_at IS NULL;
CREATE INDEX grants_unrevoked_by_team ON grants (team, expires_at) WHERE revoked_at IS NULL AND team IS NOT NULL;
CREATE INDEX users_by_role_and_username ON users (is_agent, username);
CREATE INDEX users_by_team ON users (team) WHERE team IS NOT NULL;
CREATE INDEX users_by_email ON users (email) WHERE email IS NOT NULL;
