ALTER TABLE grants DROP COLUMN first_used_at;
ALTER TABLE outbox DROP COLUMN event_id;
DROP TABLE set_receivers;
DROP TABLE webhooks;
DROP TABLE events;
