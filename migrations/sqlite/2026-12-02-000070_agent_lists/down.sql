CREATE INDEX access_requests_by_agent ON access_requests (agent_sub);
CREATE INDEX grants_by_agent ON grants (agent_sub);
CREATE INDEX grants_by_team ON grants (team) WHERE team IS NOT NULL;
DROP INDEX grants_by_team_created;
DROP INDEX grants_by_agent_created;
DROP INDEX access_requests_by_agent_created;
