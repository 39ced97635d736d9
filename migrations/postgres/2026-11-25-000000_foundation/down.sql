DROP TABLE audit_events;
DROP TABLE issued_tokens;
DROP TABLE signing_keys;
DROP TABLE users;
DROP TABLE clients;
