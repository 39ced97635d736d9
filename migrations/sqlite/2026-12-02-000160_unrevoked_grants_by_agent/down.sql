DROP INDEX grants_unrevoked_by_team;
DROP INDEX grants_unrevoked_by_agent;
