-- At most one activity line per token, client and minute for repeated
-- introspection (docs/security.md L9): the deferred audit writer claims
-- (token, client, minute) here with INSERT ... ON CONFLICT DO NOTHING and
-- appends the line only if the claim is new, so every instance sharing the
-- database agrees. Marks of past minutes are swept.
CREATE TABLE introspection_marks (
    token_id   TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    minute     BIGINT NOT NULL,          -- unix seconds / 60
    PRIMARY KEY (token_id, client_id, minute)
);
CREATE INDEX introspection_marks_by_minute ON introspection_marks (minute);
