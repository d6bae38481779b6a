-- G-SEARCH-F's statement in the shape the PostgreSQL store sends it (a search for one of the ten seed
-- words, open tests only, newest first, first page; a viewer without registrations; the store binds
-- the instant where this reads now()), for pgbench on the
-- database ./scripts/bench-catalog seeds:
--   pgbench -n -c 4 -j 2 -T 10 -M prepared -f scripts/pgbench/catalog-search-open.sql \
--     postgres://postgres@127.0.0.1:5432/reserva_bench_catalog
\set w random(1, 10)
SELECT i.id, i.kind, i.title, i.description, i.price, i.starts_at, i.ends_at, i.category, i.skill_level, i.tutor_id, i.registration_count, i.created_at, i.updated_at, EXISTS (SELECT 1 FROM catalog_registrations r WHERE r.user_id = '00000000-0000-0000-0000-000000000001'::uuid AND r.item_id = i.id AND r.status <> 'cancelled') AS is_registered FROM (SELECT * FROM catalog_items i WHERE i.kind = 'test' AND i.deleted_at IS NULL AND i.starts_at <= (SELECT now()) AND i.ends_at >= (SELECT now()) ORDER BY i.created_at DESC, i.id DESC LIMIT 1000) i WHERE i.search_vector @@ (SELECT plainto_tsquery('simple', (ARRAY['kubernetes','graphql','terraform','elixir','haskell','kafka','webassembly','tensorflow','flutter','solidity'])[:w])) LIMIT 21;
