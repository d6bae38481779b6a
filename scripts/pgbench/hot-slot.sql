BEGIN;
INSERT INTO reservation (user_id, starts_at, ends_at, headcount, status, created_at, updated_at)
VALUES (1, now(), now() + interval '1 hour', 1, 'confirmed', now(), now());
UPDATE slot SET confirmed = confirmed + 1 WHERE id = 1 AND confirmed + 1 <= capacity;
END;
