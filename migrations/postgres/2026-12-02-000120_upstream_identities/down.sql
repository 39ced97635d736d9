DROP TABLE upstream_logins;
DROP TABLE user_identities;
