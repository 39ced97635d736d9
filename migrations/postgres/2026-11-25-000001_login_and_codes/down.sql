DROP INDEX issued_tokens_by_subject;
DROP INDEX issued_tokens_by_family;
ALTER TABLE issued_tokens DROP COLUMN family_id;
DROP TABLE refresh_tokens;
DROP TABLE authorization_codes;
DROP TABLE app_consents;
DROP TABLE sessions;
