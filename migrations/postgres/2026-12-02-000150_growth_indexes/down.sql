CREATE INDEX grants_by_subject ON grants (subject_sub);
DROP INDEX grants_by_subject_created;
DROP INDEX grants_unrevoked_by_subject;
