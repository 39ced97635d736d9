-- An agent's active grants (GET /api/grants?status=active, the grants a
-- delegated sign-in may run under) through its unrevoked ones alone: 33 ms
-- for an agent with 50,000 grants before, a few microseconds after
-- (bench/README.md "Query plans").
CREATE INDEX grants_unrevoked_by_agent ON grants (agent_sub, expires_at) WHERE revoked_at IS NULL;
CREATE INDEX grants_unrevoked_by_team ON grants (team, expires_at) WHERE revoked_at IS NULL AND team IS NOT NULL;
