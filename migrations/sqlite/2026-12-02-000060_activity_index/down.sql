CREATE INDEX audit_events_by_subject ON audit_events (subject);
DROP INDEX audit_events_by_subject_seq;
