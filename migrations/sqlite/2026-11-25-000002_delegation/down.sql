DROP INDEX audit_events_by_subject;
DROP INDEX issued_tokens_by_parent;
ALTER TABLE issued_tokens DROP COLUMN parent_id;
ALTER TABLE issued_tokens DROP COLUMN grant_id;
DROP TABLE grants;
DROP TABLE access_requests;
