-- E-POST's statement on reserva's real schema (uuid keys, three secondary indexes, the foreign key
-- to users): insert a pending 1-hour reservation only if the hour has room. 200 users, one hour.
\set u random(1, 200)
INSERT INTO exam_reservations (id, user_id, starts_at, ends_at, headcount, status, created_at, updated_at)
SELECT gen_random_uuid(), ('00000000-0000-0000-0000-' || lpad(:u::text, 12, '0'))::uuid,
       '2030-01-01T12:00:00Z', '2030-01-01T13:00:00Z', 1, 'pending', now(), now()
 WHERE (SELECT count(*) FROM exam_slots
         WHERE starts_at >= '2030-01-01T12:00:00Z' AND starts_at < '2030-01-01T13:00:00Z'
           AND confirmed + 1 <= capacity) = 1;
