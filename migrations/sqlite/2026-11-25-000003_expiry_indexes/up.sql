-- For the sweep of expired rows (src/sweep.rs): each batch finds its rows by expiry.
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at);
CREATE INDEX refresh_tokens_by_family_expiry ON refresh_tokens (family_expires_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
