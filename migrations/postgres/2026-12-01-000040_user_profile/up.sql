-- People, agents and teams (DESIGN.md): a user's optional email, display
-- name, and (agents) team. `behalf user add --email --name --team` sets them.
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN display_name TEXT;
ALTER TABLE users ADD COLUMN team TEXT;
