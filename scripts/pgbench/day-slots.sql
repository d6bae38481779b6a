\set day random(0, 89)
SELECT id, capacity, confirmed FROM slot WHERE id > :day * 24 AND id <= :day * 24 + 24 ORDER BY id;
