DROP INDEX users_updated_at_idx;
DROP INDEX sessions_revoked_at_idx;
