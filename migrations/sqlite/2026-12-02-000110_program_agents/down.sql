DROP TABLE ciba_requests;
ALTER TABLE clients DROP COLUMN ciba_notification_endpoint;
ALTER TABLE clients DROP COLUMN ciba_mode;
ALTER TABLE clients DROP COLUMN program_agent;
