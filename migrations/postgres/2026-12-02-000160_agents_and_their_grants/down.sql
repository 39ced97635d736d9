DROP INDEX users_by_email;
DROP INDEX users_by_team;
DROP INDEX users_by_role_and_username;
DROP INDEX grants_unrevoked_by_team;
DROP INDEX grants_unrevoked_by_agent;
