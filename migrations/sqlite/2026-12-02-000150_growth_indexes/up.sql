-- The consent screen (bench/README.md "Growth": the same cost after 10,000
-- ended grants): a user's active grants through the unrevoked ones alone,
-- and a page of the ended ones walked newest first.
CREATE INDEX grants_unrevoked_by_subject ON grants (subject_sub, expires_at) WHERE revoked_at IS NULL;
CREATE INDEX grants_by_subject_created ON grants (subject_sub, created_at, id);
DROP INDEX grants_by_subject;
