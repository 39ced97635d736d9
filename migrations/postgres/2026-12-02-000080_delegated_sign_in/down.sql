DROP TABLE delegated_sessions;
ALTER TABLE refresh_tokens DROP COLUMN sid;
ALTER TABLE refresh_tokens DROP COLUMN actor_sub;
ALTER TABLE refresh_tokens DROP COLUMN grant_id;
ALTER TABLE authorization_codes DROP COLUMN sid;
ALTER TABLE authorization_codes DROP COLUMN actor_sub;
ALTER TABLE authorization_codes DROP COLUMN grant_id;
