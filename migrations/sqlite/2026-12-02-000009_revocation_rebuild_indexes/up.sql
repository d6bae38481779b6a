-- A rebuild of the revocation marks in shared state (after Redis lost them) reads the sessions
-- revoked and the users changed within the last two access-token lifetimes: a few rows out of
-- many, found through these indexes instead of a walk of both tables.
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX users_updated_at_idx ON users (updated_at);
