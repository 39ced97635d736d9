-- A grant's activity is read a page at a time, newest first (the consent
-- screen, 50 lines a page): an index on (subject, seq) answers
-- `WHERE subject = ? ORDER BY seq DESC LIMIT ? OFFSET ?` without reading the
-- grant's other events. It replaces the index on (subject) alone, which it
-- covers, so that appends keep one index to update.
CREATE INDEX audit_events_by_subject_seq ON audit_events (subject, seq);
DROP INDEX audit_events_by_subject;
