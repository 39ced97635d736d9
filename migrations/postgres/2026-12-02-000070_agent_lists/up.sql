-- The agent API's lists (docs/contract.md "Access requests API"): an agent's
-- requests and the grants it may use (named, or through its team), newest
-- first by (created_at, id) and read from a cursor, each a walk of one index.
-- They begin with the columns of the indexes they replace, which they serve too.
CREATE INDEX access_requests_by_agent_created ON access_requests (agent_sub, created_at, id);
CREATE INDEX grants_by_agent_created ON grants (agent_sub, created_at, id);
CREATE INDEX grants_by_team_created ON grants (team, created_at, id) WHERE team IS NOT NULL;
DROP INDEX access_requests_by_agent;
DROP INDEX grants_by_agent;
DROP INDEX grants_by_team;
