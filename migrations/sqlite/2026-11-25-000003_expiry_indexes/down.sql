DROP INDEX sessions_by_expiry;
DROP INDEX refresh_tokens_by_family_expiry;
DROP INDEX authorization_codes_by_expiry;
